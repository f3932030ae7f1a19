import type { SafeStorage } from 'electron';
import { KEYCHAIN_PROTECTOR_ID } from '../core/app/pacs-handlers';
import { PacsError } from '../core/pacs/errors';
import { registerSecretProtector, type SecretProtector } from '../core/pacs/secrets';

/** The part of Electron's safeStorage MedTune uses (the tests hand in their own). */
export type Keychain = Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString' | 'getSelectedStorageBackend'>;

/**
 * Why typed secrets cannot be kept on this desktop, or undefined when they can. On Linux without a
 * keyring (`basic_text`) Electron "encrypts" with a fixed key, which is no protection: refuse, so the
 * panel asks for an environment variable instead.
 */
export function keychainUnavailable(keychain: Keychain, platform: NodeJS.Platform): string | undefined {
  if (!keychain.isEncryptionAvailable()) return 'the OS keychain is not available';
  if (platform === 'linux') {
    const backend = keychain.getSelectedStorageBackend();
    if (backend === 'basic_text' || backend === 'unknown') return `no keyring on this Linux desktop (safeStorage backend "${backend}")`;
  }
  return undefined;
}

/** A protector that stores secrets as safeStorage ciphertext (base64) in the workspace. */
export function keychainProtector(keychain: Keychain): SecretProtector {
  return {
    id: KEYCHAIN_PROTECTOR_ID,
    protect: (plain) => keychain.encryptString(plain).toString('base64'),
    unprotect: (ciphertext) => {
      try {
        return keychain.decryptString(Buffer.from(ciphertext, 'base64'));
      } catch {
        // Another user or computer, or a reset keyring: say what to do, without the ciphertext.
        throw new PacsError('secret-missing', "this computer's keychain cannot decrypt the connection's stored password (stored by another user or computer?); add the connection again");
      }
    },
  };
}

/**
 * Registers the keychain protector for typed PACS passwords and tokens; call after the app is ready
 * (safeStorage needs it). Returns why not when the desktop has no usable keychain.
 */
export function registerKeychain(keychain: Keychain, platform: NodeJS.Platform = process.platform): { registered: boolean; reason?: string } {
  const reason = keychainUnavailable(keychain, platform);
  if (reason) return { registered: false, reason };
  registerSecretProtector(keychainProtector(keychain));
  return { registered: true };
}
