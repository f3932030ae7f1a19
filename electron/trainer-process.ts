import path from 'node:path';
import { utilityProcess } from 'electron';
import type { TrainerMessage, TrainerProcess } from '../core/train/worker-protocol';

/**
 * The desktop trainer: core/train/trainer-worker bundled as trainer-worker.cjs and run in an Electron
 * utility process, so training never competes with the main process for its event loop and an
 * out-of-memory abort takes down only the trainer.
 */
export function utilityProcessTrainer(): TrainerProcess {
  const child = utilityProcess.fork(path.join(__dirname, 'trainer-worker.cjs'), [], { serviceName: 'MedTune trainer', stdio: 'inherit' });
  let exited = false;
  const exitListeners: ((reason: string) => void)[] = [];
  child.on('exit', (code) => {
    if (exited) return;
    exited = true;
    for (const l of exitListeners) l(`the trainer stopped (exit code ${code})`);
  });
  return {
    post: (m) => child.postMessage(m),
    onMessage: (l) => child.on('message', (m: TrainerMessage) => l(m)),
    onExit: (l) => exitListeners.push(l),
    terminate: async () => {
      exited = true;
      child.kill();
    },
  };
}
