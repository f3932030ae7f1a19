/**
 * Child process for the crash test: imports a folder slowly (a short sleep per file), printing
 * `done <n>` after each file so the parent can kill it part-way with SIGKILL.
 * Usage: node --import tsx slow-import.ts <workspace> <folder>
 */
import { Workspace } from '../../../../core/store';

const [wsDir, input] = process.argv.slice(2);
const ws = Workspace.open(wsDir);
const pause = new Int32Array(new SharedArrayBuffer(4));
await ws.import([input], {
  batchSize: 7,
  onProgress: (p) => {
    process.stdout.write(`done ${p.done}\n`);
    Atomics.wait(pause, 0, 0, 3);
  },
});
process.stdout.write('finished\n');
ws.close();
