import type { EventBus } from '../api/dispatch';
import type { Workspace } from '../store';
import { TrainingService, workerThreadTrainer } from '../train/service';
import type { TrainerProcess } from '../train/worker-protocol';

/**
 * Keeps one TrainingService for the open workspace and relays its progress as contract events.
 * The trainer process kind is the transport's business: a worker thread in browser mode, an Electron
 * utility process on the desktop.
 */
export class TrainingHost {
  private service: TrainingService | null = null;
  private workspace: Workspace | null = null;

  constructor(
    private readonly events: EventBus,
    private readonly spawn: () => TrainerProcess = workerThreadTrainer,
  ) {}

  /**
   * Starts the service as the workspace opens: runs whose process died are failed now, and runs that
   * another process (`medtune train`, another window) queues or trains show up as `train.progress`.
   */
  open(ws: Workspace): void {
    this.for(ws);
  }

  /** The service of this workspace, started on first use. */
  for(ws: Workspace): TrainingService {
    if (this.service && this.workspace === ws) return this.service;
    void this.close();
    this.workspace = ws;
    this.service = new TrainingService(
      ws,
      {
        onRunEvent: (event) => this.events.emit('train.progress', event),
        onPredictProgress: (taskId, p) => this.events.emit('predict.progress', { taskId, ...p }),
        onPredictDone: (taskId, outcome) =>
          this.events.emit(
            'predict.progress',
            'error' in outcome ? { taskId, phase: 'failed', done: 0, total: 0, error: outcome.error } : { taskId, phase: 'done', done: outcome.predicted, total: outcome.predicted },
          ),
      },
      this.spawn,
    );
    return this.service;
  }

  /** Stops the trainer (a running run is cancelled and recorded so). */
  async close(): Promise<void> {
    const service = this.service;
    this.service = null;
    this.workspace = null;
    await service?.close();
  }
}
