// `npm run package:fuses -- <path to the packaged Electron binary or .app>`: flips Electron's fuses
// (build-time switches baked into the binary) as Electron's security checklist asks, then reads
// them back to prove they took. Run it on the packaged copy, before code signing.
import { pathToFileURL } from 'node:url';
import { flipFuses, FuseV1Options, FuseVersion, getCurrentFuseWire, type FuseV1Config } from '@electron/fuses';

/** Byte values of a fuse in the binary (Electron's fuse wire is ASCII '0' / '1'). */
const FUSE_DISABLED = 48;
const FUSE_ENABLED = 49;

/**
 * What MedTune's packaged binary may do. Every fuse @electron/fuses 1.8 knows is set explicitly;
 * fuses newer than that library (Electron 38 may have more) keep Electron's default.
 */
export const MEDTUNE_FUSES = {
  version: FuseVersion.V1,
  // ELECTRON_RUN_AS_NODE would turn the signed app into a general-purpose Node.js.
  [FuseV1Options.RunAsNode]: false,
  // Cookies and local storage encrypted with the OS key store.
  [FuseV1Options.EnableCookieEncryption]: true,
  // NODE_OPTIONS could preload arbitrary code into the main process.
  [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
  // --inspect and friends would open a debugger port on the main process.
  [FuseV1Options.EnableNodeCliInspectArguments]: false,
  // app.asar must match the hash recorded at packaging time (macOS, Windows).
  [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
  // Only resources/app.asar is loaded, never a loose resources/app folder someone dropped in.
  [FuseV1Options.OnlyLoadAppFromAsar]: true,
  [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: false,
  // The renderer is served from app://; file: gets no extra privileges.
  [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
} satisfies FuseV1Config;

/** Flips the fuses in `binary` and checks each one reads back as configured; throws naming the file otherwise. */
export async function setFuses(binary: string): Promise<void> {
  try {
    await flipFuses(binary, { ...MEDTUNE_FUSES, resetAdHocDarwinSignature: process.platform === 'darwin' && binary.includes('.app') });
  } catch (err) {
    throw new Error(`cannot set fuses in ${binary}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const wire = await getCurrentFuseWire(binary);
  for (const [key, wanted] of Object.entries(MEDTUNE_FUSES)) {
    if (key === 'version') continue;
    const option = Number(key) as FuseV1Options;
    const actual = wire[option] as number | undefined;
    if (actual !== (wanted ? FUSE_ENABLED : FUSE_DISABLED)) {
      throw new Error(`fuse ${FuseV1Options[option]} in ${binary} reads ${actual} after flipping, wanted ${wanted ? 'on' : 'off'}`);
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const binary = process.argv[2];
  if (!binary) {
    console.error('usage: npm run package:fuses -- <path to the packaged Electron binary or .app>');
    process.exit(2);
  }
  setFuses(binary).then(
    () => console.log(`fuses set in ${binary}`),
    (err: Error) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
