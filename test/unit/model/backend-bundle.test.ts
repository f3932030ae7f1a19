import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

// The Electron trainer and its replicas run backend.ts from CommonJS bundles (scripts/build-electron.mjs),
// where import.meta is empty: the wasm binaries must still be found there.
describe('backend in a CommonJS bundle', () => {
  it('finds the wasm binaries without import.meta', async () => {
    const repo = path.resolve(import.meta.dirname, '../../..');
    // Inside the repository (tmp-* is ignored), so `require` finds node_modules as the app's bundles do.
    const dir = fs.mkdtempSync(path.join(repo, 'tmp-bundle-'));
    try {
      const outfile = path.join(dir, 'backend.cjs');
      await build({
        entryPoints: [path.join(repo, 'core/model/backend.ts')],
        outfile,
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        external: ['@tensorflow/*'],
        logLevel: 'silent',
      });
      const bundled = createRequire(import.meta.url)(outfile) as { wasmBinaryDir(): string };
      expect(fs.readdirSync(bundled.wasmBinaryDir())).toContain('tfjs-backend-wasm-simd.wasm');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
