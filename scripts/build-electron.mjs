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

// Worker entries run beside main.cjs: the decode pool (worker_threads) and the trainer (utilityProcess).
const external = ['electron', 'better-sqlite3', 'sharp', '@tensorflow/*', '@cornerstonejs/*'];
await build({ ...common, entryPoints: ['core/imaging/decode-pool-worker.ts'], outfile: 'dist/electron/decode-pool-worker.cjs', external });
await build({ ...common, entryPoints: ['core/train/trainer-worker.ts'], outfile: 'dist/electron/trainer-worker.cjs', external });
// The trainer's data-parallel replicas (worker_threads started by the trainer).
await build({ ...common, entryPoints: ['core/train/replica-worker.ts'], outfile: 'dist/electron/replica-worker.cjs', external });

await build({
  ...common,
  entryPoints: ['electron/preload.ts'],
  outfile: 'dist/electron/preload.cjs',
  external: ['electron'],
});
