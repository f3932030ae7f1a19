/**
 * The trainer's own thread/process: it opens its own connection to the workspace (SQLite WAL: one
 * writer at a time, readers never blocked), runs one job at a time and reports as it goes.
 */
import { parentPort } from 'node:worker_threads';
import { initBackend } from '../model/backend';
import { Workspace } from '../store';
import { executePrediction } from './predict-run';
import { executeSegmentationRun } from './segmentation-run';
import { executeTrainingRun } from './training-run';
import type { TrainerMessage, TrainerRequest } from './worker-protocol';

type Port = { postMessage(m: TrainerMessage): void; on(event: 'message', l: (m: TrainerRequest) => void): void };

/** Electron's utilityProcess exposes process.parentPort; worker_threads expose parentPort. */
function hostPort(): Port {
  if (parentPort) return parentPort as unknown as Port;
  const electronPort = (process as unknown as { parentPort?: { postMessage(m: unknown): void; on(e: 'message', l: (e: { data: TrainerRequest }) => void): void } }).parentPort;
  if (!electronPort) throw new Error('trainer-worker must run in a worker thread or an Electron utility process');
  return { postMessage: (m) => electronPort.postMessage(m), on: (_e, l) => electronPort.on('message', (e) => l(e.data)) };
}

const port = hostPort();
const workspaces = new Map<string, Workspace>();
const controllers = new Map<string, AbortController>();
// Jobs wait for the backend: tensors made before it is chosen would live in another backend.
const backendReady = initBackend();
let queue: Promise<unknown> = backendReady;

function workspace(dir: string): Workspace {
  let ws = workspaces.get(dir);
  if (!ws) {
    ws = Workspace.open(dir);
    workspaces.set(dir, ws);
  }
  return ws;
}

async function handle(req: Exclude<TrainerRequest, { type: 'cancel' }>): Promise<void> {
  const controller = new AbortController();
  controllers.set(req.jobId, controller);
  try {
    const ws = workspace(req.workspaceDir);
    if (req.type === 'train') {
      // A segmentation task trains a mask head in the same queue, runs and versions (segmentation-run.ts).
      const run = ws.tasks.get(req.job.taskId).kind === 'segmentation' ? executeSegmentationRun : executeTrainingRun;
      const outcome = await run(ws, req.runId, req.job, {
        signal: controller.signal,
        onEvent: (event) => port.postMessage({ type: 'run-event', jobId: req.jobId, event }),
      });
      port.postMessage({ type: 'done', jobId: req.jobId, outcome });
    } else {
      const outcome = await executePrediction(ws, req.request, {
        signal: controller.signal,
        onProgress: (progress) => port.postMessage({ type: 'predict-progress', jobId: req.jobId, progress }),
      });
      port.postMessage({ type: 'done', jobId: req.jobId, outcome });
    }
  } catch (err) {
    const e = err as Error & { code?: string };
    port.postMessage({ type: 'error', jobId: req.jobId, message: controller.signal.aborted ? 'cancelled' : e.message, code: controller.signal.aborted ? 'cancelled' : e.code });
  } finally {
    controllers.delete(req.jobId);
  }
}

port.on('message', (req) => {
  if (req.type === 'cancel') {
    controllers.get(req.jobId)?.abort();
    return;
  }
  queue = queue.then(() => handle(req));
});

// No top-level await: this file is also bundled as CommonJS for Electron's utility process.
void backendReady.then((backend) => port.postMessage({ type: 'ready', backend: backend.name }));
