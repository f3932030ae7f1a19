// Bundles the Electron main process and the sandboxed preload (which may only require 'electron').
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'info' };

await build({
  ...common,
  entryPoints: ['electron/main.ts'],
  outfile: 'dist/electron/main.cjs',
  // Native and wasm-carrying packages stay in node_modules and load at run time.
  external: ['electron', 'better-sqlite3', 'sharp', '@tensorflow/*', '@cornerstonejs/*'],
  loader: { '.json': 'json' },
});

await build({
  ...common,
  entryPoints: ['electron/preload.ts'],
  outfile: 'dist/electron/preload.cjs',
  external: ['electron'],
});
