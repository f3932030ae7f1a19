// `npm start`: the desktop app when the Electron binary is present, otherwise browser mode.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

let electronBinary = null;
try {
  // The electron package throws here when its binary was not downloaded (ELECTRON_SKIP_BINARY_DOWNLOAD=1).
  electronBinary = require('electron');
} catch {
  electronBinary = null;
}

if (typeof electronBinary === 'string') {
  run('npm', ['run', 'build']);
  run(electronBinary, ['.']);
} else {
  console.log('The Electron binary is not installed on this machine (it could not be downloaded),');
  console.log('so MedTune starts in browser mode instead. Install Electron to get the desktop app.');
  run('npm', ['run', 'web']);
}
