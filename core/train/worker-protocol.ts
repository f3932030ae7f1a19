import type { PredictOutcome, PredictProgress, PredictRequest } from './predict-run';
import type { TrainJob } from './job';
import type { RunEvent, RunOutcome } from './training-run';

/** Host → trainer. One job at a time; `cancel` names the job it means. */
export type TrainerRequest =
  | { type: 'train'; jobId: string; workspaceDir: string; runId: number; job: TrainJob }
  | { type: 'predict'; jobId: string; workspaceDir: string; request: PredictRequest }
  | { type: 'cancel'; jobId: string };

/** Trainer → host. */
export type TrainerMessage =
  | { type: 'ready'; backend: string }
  | { type: 'run-event'; jobId: string; event: RunEvent }
  | { type: 'predict-progress'; jobId: string; progress: PredictProgress }
  | { type: 'done'; jobId: string; outcome: RunOutcome | PredictOutcome }
  | { type: 'error'; jobId: string; message: string; code?: string };

/**
 * Where the trainer runs: a worker thread (CLI, browser mode, tests) or Electron's utilityProcess
 * (desktop). Both give a message port and a way to stop it.
 */
export interface TrainerProcess {
  post(message: TrainerRequest): void;
  onMessage(listener: (message: TrainerMessage) => void): void;
  /** Called once when the process dies on its own (crash, out of memory). */
  onExit(listener: (reason: string) => void): void;
  terminate(): Promise<void>;
}
