import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FuseV1Options, FuseVersion } from '@electron/fuses';
import { SENTINEL } from '@electron/fuses/dist/constants';
import { MEDTUNE_FUSES, setFuses } from '../../../scripts/set-fuses';

// The real Electron binary cannot be downloaded here, but a fuse wire is only bytes: the sentinel,
// the wire version, the wire length, then one ASCII '0'/'1' per fuse. A small file carrying one
// lets @electron/fuses do the real flip that packaging does.
const OFF = 0x30;
const ON = 0x31;
const REMOVED = 0x72; // 'r'
let dir: string;

/** Junk, then a V1 wire of `states`, then more junk; returns where the first fuse byte is. */
function fakeBinary(file: string, states: number[]): number {
  const before = Buffer.from('ELF...not really an executable...');
  const wire = Buffer.from([...Buffer.from(SENTINEL), 1, states.length, ...states]);
  fs.writeFileSync(file, Buffer.concat([before, wire, Buffer.from('...tail')]));
  return before.length + SENTINEL.length + 2;
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-fuses-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('packaging fuses', () => {
  it('configures the security checklist fuses', () => {
    expect(MEDTUNE_FUSES).toMatchObject({
      version: FuseVersion.V1,
      [FuseV1Options.RunAsNode]: false,
      [FuseV1Options.EnableCookieEncryption]: true,
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      [FuseV1Options.EnableNodeCliInspectArguments]: false,
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
      [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
    });
    // Every fuse the library knows is decided, none left to Electron's default.
    const known = Object.values(FuseV1Options).filter((v) => typeof v === 'number');
    for (const option of known) expect(typeof MEDTUNE_FUSES[option as FuseV1Options], FuseV1Options[option as number]).toBe('boolean');
  });

  it('flips the fuse bytes of a binary carrying Electron defaults and leaves everything else alone', async () => {
    const file = path.join(dir, 'electron');
    // Electron's defaults: RunAsNode, cookie encryption off, NODE_OPTIONS, inspect on, asar checks off,
    // snapshot off, file: privileges on; plus a ninth fuse newer than @electron/fuses 1.8.
    const defaults = [ON, OFF, ON, ON, OFF, OFF, OFF, ON, ON];
    const at = fakeBinary(file, defaults);
    const before = fs.readFileSync(file);
    await setFuses(file);
    const after = fs.readFileSync(file);
    expect(after.length).toBe(before.length);
    expect([...after.subarray(at, at + 9)]).toEqual([OFF, ON, OFF, OFF, ON, ON, OFF, OFF, ON]);
    expect(after.subarray(0, at).equals(before.subarray(0, at))).toBe(true);
    expect(after.subarray(at + 9).equals(before.subarray(at + 9))).toBe(true);
  });

  it('flips both slices of a universal macOS binary', async () => {
    const file = path.join(dir, 'universal');
    fakeBinary(file, [ON, ON, ON, ON, ON, ON, ON, ON]);
    fs.appendFileSync(file, Buffer.from([...Buffer.from(SENTINEL), 1, 8, ON, ON, ON, ON, ON, ON, ON, ON]));
    await setFuses(file);
    const bytes = fs.readFileSync(file);
    const first = bytes.indexOf(SENTINEL) + SENTINEL.length + 2;
    const last = bytes.lastIndexOf(SENTINEL) + SENTINEL.length + 2;
    expect(first).not.toBe(last);
    for (const at of [first, last]) expect([...bytes.subarray(at, at + 8)]).toEqual([OFF, ON, OFF, OFF, ON, ON, OFF, OFF]);
  });

  it('a fuse Electron removed is still written and does not fail the check', async () => {
    const file = path.join(dir, 'removed');
    const at = fakeBinary(file, [ON, OFF, ON, ON, OFF, OFF, REMOVED, ON]);
    const warn = console.warn;
    console.warn = () => {};
    try {
      await setFuses(file);
    } finally {
      console.warn = warn;
    }
    expect([...fs.readFileSync(file).subarray(at, at + 8)]).toEqual([OFF, ON, OFF, OFF, ON, ON, OFF, OFF]);
  });

  it('refuses a file without a fuse wire, or a missing one, naming it', async () => {
    const junk = path.join(dir, 'not-electron');
    fs.writeFileSync(junk, 'just some bytes');
    await expect(setFuses(junk)).rejects.toThrow(`cannot set fuses in ${junk}: Could not find sentinel`);
    expect(fs.readFileSync(junk, 'utf8')).toBe('just some bytes');
    const missing = path.join(dir, 'missing');
    await expect(setFuses(missing)).rejects.toThrow(`cannot set fuses in ${missing}`);
  });

  it('refuses a wire version it does not know instead of writing blindly', async () => {
    const file = path.join(dir, 'v2');
    fs.writeFileSync(file, Buffer.from([...Buffer.from(SENTINEL), 2, 8, ON, ON, ON, ON, ON, ON, ON, ON]));
    const before = fs.readFileSync(file);
    await expect(setFuses(file)).rejects.toThrow(/fuse wire version/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });
});
