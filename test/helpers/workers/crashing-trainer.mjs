// A trainer that reports ready and then dies on its first job, as an out-of-memory abort would.
import { parentPort } from 'node:worker_threads';

parentPort.on('message', (m) => {
  if (m.type === 'train' || m.type === 'predict') process.exit(3);
});
parentPort.postMessage({ type: 'ready', backend: 'none' });
