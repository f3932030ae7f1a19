import type { SecretRef } from './connection';
import { PacsError } from './errors';

/**
 * Turns a secret into storable ciphertext and back. The desktop app registers one backed by Electron's
 * safeStorage (the OS keychain); plain Node has none, so there secrets are environment variables.
 */
export interface SecretProtector {
  readonly id: string;
  protect(plain: string): string;
  unprotect(ciphertext: string): string;
}

const protectors = new Map<string, SecretProtector>();

export function registerSecretProtector(p: SecretProtector): void {
  protectors.set(p.id, p);
}

/** A reference that stores `plain` through a registered protector. */
export function protectSecret(protectorId: string, plain: string): SecretRef {
  const p = protectors.get(protectorId);
  if (!p) throw new PacsError('secret-missing', `no secret protector "${protectorId}" in this process`);
  return { protector: p.id, ciphertext: p.protect(plain) };
}

/** The secret a reference points to, read at the moment it is needed (never logged, never stored in clear). */
export function resolveSecret(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): string {
  if ('env' in ref) {
    const value = env[ref.env];
    if (value === undefined || value === '') {
      throw new PacsError('secret-missing', `the environment variable ${ref.env} (the connection's secret) is not set`);
    }
    return value;
  }
  const p = protectors.get(ref.protector);
  if (!p) {
    throw new PacsError('secret-missing', `the secret was protected by "${ref.protector}", which this process does not have (use the app that stored it)`);
  }
  return p.unprotect(ref.ciphertext);
}
