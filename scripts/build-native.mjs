#!/usr/bin/env node
/**
 * Builds native/blas (OpenBLAS's sgemm for the wasm backend's matrix products, core/model/native-blas.ts).
 * Optional: without libopenblas-dev (Debian: apt-get install libopenblas-dev) it prints why and exits 0, and
 * MedTune computes its products in wasm as before. Runs after `npm ci` (postinstall) and by `npm run build:native`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const dir = path.join(root, 'native', 'blas');
const say = (line) => process.stdout.write(`build:native: ${line}\n`);

if (process.env.MEDTUNE_NATIVE_BLAS === 'off') {
  say('skipped (MEDTUNE_NATIVE_BLAS=off)');
  process.exit(0);
}
const headers = ['/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/aarch64-linux-gnu/cblas.h', '/usr/include/openblas/cblas.h', '/usr/include/cblas.h'];
if (!headers.some((h) => fs.existsSync(h))) {
  say('not built: OpenBLAS headers are missing (apt-get install libopenblas-dev); matrix products stay in wasm');
  process.exit(0);
}
// npm puts its own node-gyp in scripts' environment; else the copy bundled with npm next to node.
const gyp =
  process.env.npm_config_node_gyp ?? path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
if (!fs.existsSync(gyp)) {
  say(`not built: node-gyp not found (${gyp}); matrix products stay in wasm`);
  process.exit(0);
}
// Node's own headers when they are installed next to it (offline: node-gyp must not download them).
const prefix = path.resolve(path.dirname(process.execPath), '..');
const nodedir = fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
const run = spawnSync(process.execPath, [gyp, 'rebuild', ...nodedir], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (run.status !== 0) {
  const tail = `${run.stdout}\n${run.stderr}`.trim().split('\n').slice(-8).join('\n');
  say(`not built (node-gyp exited ${run.status}); matrix products stay in wasm:\n${tail}`);
  process.exit(0);
}
say(`built ${path.relative(root, path.join(dir, 'build', 'Release', 'medtune_blas.node'))}`);
