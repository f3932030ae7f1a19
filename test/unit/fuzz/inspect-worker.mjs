// Runs the DICOM inspector on files sent by the fuzz test, one at a time, in its own thread, so a file that makes
// it loop can be stopped (the test terminates this worker and starts another).
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { inspectDicomFile } = await import('../../../core/imaging/dicom/inspect.ts');

parentPort.on('message', async (file) => {
  try {
    const result = await inspectDicomFile(file);
    parentPort.postMessage({ file, ok: true, readable: result.readable, decodable: result.decodable, error: result.error });
  } catch (err) {
    parentPort.postMessage({ file, ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  }
});
parentPort.postMessage({ ready: true });
