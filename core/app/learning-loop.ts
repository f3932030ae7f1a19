/**
 * The learning loop of a workspace, on by default and configurable per task: labels → a warm-started
 * run once enough labels changed → when a version becomes active, the unlabelled in-scope cases are
 * scored (a bounded round, in the trainer's queue) → suggestions are recomputed → the worklist,
 * viewer and ranks refresh through `worklist.changed`. Its state is the `loop.state` event.
 */
import type { EventBus } from '../api/dispatch';
import type { LoopStateT, RunEventT } from '../api/training-contract';
import { executeSuggest, influenceCasesToScore } from '../active/suggest-run';
import type { AdapterVersion, LabelTask, Workspace } from '../store';
import type { TrainJobInput } from '../train/job';
import { LOOP_DEFAULTS, type StrategyName } from '../vocabulary';
import type { TrainingHost } from './training-host';

export interface LoopSettings {
  enabled: boolean;
  /** Labelled cases (in at least two classes) before the first run starts by itself. */
  firstRunAt: number;
  /** New label changes before the next run; null = max(minEvery, fraction × labelled). */
  every: number | null;
  minEvery: number;
  fraction: number;
  /** Unlabelled cases scored per round at most: the previous top candidates plus a rotating sample of the rest. */
  maxScoredPerRound: number;
  suggestCount: number;
  strategy: StrategyName;
}

/** The loop settings of a task: its own, over the defaults; MEDTUNE_AUTOTRAIN_EVERY fixes `every` (0 turns the loop off). */
export function loopSettings(task: LabelTask, env: NodeJS.ProcessEnv = process.env): LoopSettings {
  const own = task.settings.loop ?? {};
  const settings: LoopSettings = { ...LOOP_DEFAULTS, every: null, ...own };
  const fixed = env.MEDTUNE_AUTOTRAIN_EVERY;
  if (fixed !== undefined && fixed !== '') {
    const n = Number(fixed);
    if (n <= 0) return { ...settings, enabled: false };
    if (Number.isFinite(n)) return { ...settings, every: Math.round(n), firstRunAt: Math.min(settings.firstRunAt, Math.round(n)) };
  }
  return settings;
}

/** New label changes since a version's labels, how many a run needs now, and whether one is due. */
function dueAfter(ws: Workspace, taskId: number, version: AdapterVersion, settings: LoopSettings): { fresh: number; per: number; due: boolean } {
  const lastSeen = (version.labelSnapshot as { lastLabelEventId?: number }).lastLabelEventId ?? 0;
  const fresh = ws.labels.countEventsAfter(taskId, lastSeen);
  const per = labelsPerRun(settings, ws.versions.snapshot(taskId).labelCount);
  return { fresh, per, due: fresh >= per };
}

/** Label changes that start the next run: keeps pace with a growing task without a run every few labels. */
export function labelsPerRun(settings: LoopSettings, labelled: number): number {
  return settings.every ?? Math.max(settings.minEvery, Math.round(settings.fraction * labelled));
}

/**
 * The cases one round scores: every unlabelled case when there are few enough; otherwise the current
 * top candidates (they may stay on top) plus a window of the rest that rotates each round, so every
 * case is scored within ⌈rest / window⌉ rounds and a round finishes in a bounded time.
 */
export function roundCases(unlabelled: number[], topCandidates: number[], max: number, rotation: number): { ids: number[]; nextRotation: number } {
  if (unlabelled.length <= max) return { ids: unlabelled, nextRotation: 0 };
  const pool = new Set(unlabelled);
  const top = topCandidates.filter((id) => pool.has(id)).slice(0, Math.floor(max / 2));
  const chosen = new Set(top);
  const rest = unlabelled.filter((id) => !chosen.has(id));
  const window = max - top.length;
  const start = rest.length ? rotation % rest.length : 0;
  for (let i = 0; i < window && i < rest.length; i++) chosen.add(rest[(start + i) % rest.length]);
  return { ids: [...chosen], nextRotation: start + window };
}

interface LoopHost {
  readonly events: EventBus;
  readonly training: TrainingHost;
  readonly current: Workspace | null;
}

export class LearningLoop {
  private readonly rotation = new Map<number, number>();
  /** Tasks being scored: the version and the switch that cancels its round when a newer version supersedes it. */
  private readonly scoring = new Map<number, { versionId: number; controller: AbortController }>();
  /** The version that scores next, once the superseded round has stopped. */
  private readonly pendingRefresh = new Map<number, number>();
  private readonly state = new Map<number, LoopStateT>();
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly host: LoopHost) {}

  /** Follows runs: a version that becomes active is scored and suggests the next cases. */
  start(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.host.events.subscribe((event, payload) => {
      if (event !== 'train.progress') return;
      const e = payload as RunEventT;
      const ws = this.host.current;
      if (!ws) return;
      if (e.status === 'running') this.setState(ws, { taskId: e.taskId, phase: 'training', message: `run ${e.runId}: ${e.phase}` });
      else if (e.status === 'done' && e.promoted && e.versionId) this.activated(ws, e.taskId, e.versionId);
      else this.setState(ws, this.idleState(ws, e.taskId));
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.state.clear();
  }

  /** Re-states every task's loop after something it waits for changed (e.g. a backbone arrived). */
  announce(ws: Workspace): void {
    for (const task of ws.tasks.list()) {
      const phase = this.state.get(task.id)?.phase;
      if (phase !== 'training' && phase !== 'scoring' && phase !== 'suggesting') this.setState(ws, this.idleState(ws, task.id));
    }
  }

  /** Where the loop of a task stands now. */
  status(ws: Workspace, taskId: number): LoopStateT {
    return this.state.get(taskId) ?? this.idleState(ws, taskId);
  }

  /**
   * After every label change: queues a run when the task is due — the first one once `firstRunAt`
   * cases are labelled in two classes (with the newest backbone and the default method), later ones
   * warm-started from the active version's job. Never throws: labelling must not fail because of it.
   */
  labelsChanged(ws: Workspace, taskId: number): number | null {
    try {
      const task = ws.tasks.get(taskId);
      const settings = loopSettings(task);
      if (!settings.enabled || task.kind === 'segmentation') return null;
      const service = this.host.training.for(ws);
      if (service.pending().length > 0) return null;
      const job = this.nextJob(ws, task, settings);
      if (!job) {
        this.setState(ws, this.idleState(ws, taskId));
        return null;
      }
      const run = service.enqueueTraining(job);
      this.setState(ws, { taskId, phase: 'training', message: `run ${run.id} queued by the learning loop` });
      return run.id;
    } catch (err) {
      console.error('[medtune] the learning loop could not queue a run:', err);
      return null;
    }
  }

  /** A version became active (a run promoted it, or the user did): the loop, when on, scores with it. */
  activated(ws: Workspace, taskId: number, versionId: number): void {
    if (this.enabledFor(ws, taskId)) void this.refresh(ws, taskId, versionId);
  }

  /**
   * Scores the unlabelled in-scope cases with a version (default: the active one), then suggests. A
   * round of an older version still under way is cancelled, not finished first: its scores would be
   * outdated on arrival. The previous suggestions stay meanwhile and say which version made them.
   */
  async refresh(ws: Workspace, taskId: number, versionId?: number): Promise<void> {
    const version = versionId ?? ws.versions.active(taskId)?.id;
    if (version === undefined) return;
    const running = this.scoring.get(taskId);
    if (running) {
      if (running.versionId === version && !this.pendingRefresh.has(taskId)) return;
      // The round's `finally` starts the pending version once the trainer has stopped the old one.
      this.pendingRefresh.set(taskId, version);
      running.controller.abort();
      return;
    }
    const controller = new AbortController();
    this.scoring.set(taskId, { versionId: version, controller });
    let previous: number | undefined;
    try {
      const task = ws.tasks.get(taskId);
      const settings = loopSettings(task);
      const heldOut = new Set(ws.splits.caseIds(taskId, 'test'));
      const unlabelled = ws.worklistIds('unlabeled', taskId).filter((id) => !heldOut.has(id));
      const top = ws.suggestions.list(taskId).map((s) => s.caseId);
      const { ids, nextRotation } = roundCases(unlabelled, top, settings.maxScoredPerRound, this.rotation.get(taskId) ?? 0);
      this.rotation.set(taskId, nextRotation);
      previous = ws.suggestions.list(taskId)[0]?.versionId;
      // Mixed's validation influence needs this version's embeddings of the labelled training and validation cases.
      const labelled = settings.strategy === 'mixed' ? influenceCasesToScore(ws, taskId, version) : [];
      this.setState(ws, {
        taskId,
        phase: 'scoring',
        versionId: version,
        suggestionsVersionId: previous,
        done: 0,
        total: ids.length + labelled.length,
        message: `version ${version} is scoring ${ids.length} of ${unlabelled.length} unlabelled cases${labelled.length ? ` and ${labelled.length} labelled ones` : ''}${previous ? `; the suggestions shown are version ${previous}'s` : ''}`,
      });
      if (ids.length + labelled.length > 0) {
        await this.host.training.for(ws).predict({ taskId, versionId: version, caseIds: [...ids, ...labelled] }, { signal: controller.signal });
        if (controller.signal.aborted) throw Object.assign(new Error('cancelled'), { code: 'cancelled' });
        this.host.events.emit('worklist.changed', { taskId, versionId: version, reason: 'predictions' });
      }
      this.setState(ws, { taskId, phase: 'suggesting', versionId: version, suggestionsVersionId: previous, message: `version ${version} is choosing the next cases` });
      const strategy = settings.strategy;
      executeSuggest(ws, { taskId, strategy, count: settings.suggestCount, versionId: version });
      this.host.events.emit('worklist.changed', { taskId, versionId: version, reason: 'suggestions' });
      this.setState(ws, this.idleState(ws, taskId));
    } catch (err) {
      if (controller.signal.aborted) {
        const next = this.pendingRefresh.get(taskId);
        this.setState(ws, {
          taskId,
          phase: 'scoring',
          versionId: version,
          suggestionsVersionId: previous,
          message: `version ${version}'s scoring was cancelled${next !== undefined ? `: version ${next} is newer` : ''}${previous ? `; the suggestions shown are version ${previous}'s` : ''}`,
        });
      } else {
        const message = err instanceof Error ? err.message : String(err);
        this.setState(ws, { ...this.idleState(ws, taskId), message: `scoring with version ${version} failed: ${message}` });
      }
    } finally {
      this.scoring.delete(taskId);
      const next = this.pendingRefresh.get(taskId);
      this.pendingRefresh.delete(taskId);
      if (next !== undefined && this.host.current === ws) void this.refresh(ws, taskId, next);
    }
  }

  private enabledFor(ws: Workspace, taskId: number): boolean {
    try {
      const task = ws.tasks.get(taskId);
      // A segmentation run predicts masks and ranks suggestions itself (core/train/segmentation-run.ts).
      return loopSettings(task).enabled && task.kind !== 'segmentation';
    } catch {
      return false;
    }
  }

  private nextJob(ws: Workspace, task: LabelTask, settings: LoopSettings): TrainJobInput | null {
    const active = ws.versions.active(task.id);
    const previous = (active?.config as { train?: TrainJobInput } | undefined)?.train;
    if (active && previous) {
      if (!dueAfter(ws, task.id, active, settings).due) return null;
      // The kept settings go on (a grid's choice among them), the grid itself does not: the loop runs often.
      return { ...previous, taskId: task.id, warmStart: 'active', promote: 'if-better', grid: false };
    }
    // Versions but none active: the first was kept as a candidate (at chance). More labels may lift the next
    // one above chance, so the loop trains again, fresh, after as many new labels as a run needs.
    const newest = ws.versions.list(task.id).at(-1);
    if (newest) {
      const job = (newest.config as { train?: TrainJobInput } | undefined)?.train;
      if (!job || !dueAfter(ws, task.id, newest, settings).due) return null;
      return { ...job, taskId: task.id, warmStart: 'none', promote: 'if-better', grid: false };
    }
    const snapshot = ws.versions.snapshot(task.id);
    const classes = Object.values(snapshot.byClass).filter((n) => n > 0).length;
    const backbones = ws.versions.backbones();
    if (snapshot.labelCount < settings.firstRunAt || classes < 2 || backbones.length === 0) return null;
    return { taskId: task.id, backboneId: backbones[backbones.length - 1].id, warmStart: 'none', promote: 'if-better' };
  }

  private idleState(ws: Workspace, taskId: number): LoopStateT {
    let task: LabelTask;
    try {
      task = ws.tasks.get(taskId);
    } catch {
      return { taskId, phase: 'off', message: 'no such task' };
    }
    const settings = loopSettings(task);
    const suggestionsVersionId = ws.suggestions.list(taskId)[0]?.versionId;
    if (!settings.enabled) return { taskId, phase: 'off', message: 'the learning loop is off for this task', suggestionsVersionId };
    const snapshot = ws.versions.snapshot(taskId);
    const active = ws.versions.active(taskId);
    const newest = active ? undefined : ws.versions.list(taskId).at(-1);
    if (newest) {
      const { fresh, per } = dueAfter(ws, taskId, newest, settings);
      const why = (newest.metrics as { promotion?: { atChance?: boolean } } | undefined)?.promotion?.atChance ? ', at chance' : '';
      return {
        taskId,
        phase: 'waiting',
        message: `no active version (version ${newest.id} is a candidate${why}: promote it on the Training screen, or label on); the next run starts after ${per} new labels (${fresh} so far)`,
        newLabels: fresh,
        nextRunAt: per,
        suggestionsVersionId,
      };
    }
    if (!active) {
      if (ws.versions.backbones().length === 0) return { taskId, phase: 'waiting', message: 'import a backbone (Training screen) so that the loop can train', suggestionsVersionId };
      const classes = Object.values(snapshot.byClass).filter((n) => n > 0).length;
      const need = Math.max(0, settings.firstRunAt - snapshot.labelCount);
      return {
        taskId,
        phase: 'waiting',
        message: need > 0 || classes < 2 ? `the first run starts after ${settings.firstRunAt} labels in at least two classes (${snapshot.labelCount} so far)` : 'a first run is due',
        newLabels: snapshot.labelCount,
        nextRunAt: settings.firstRunAt,
        suggestionsVersionId,
      };
    }
    const { fresh, per } = dueAfter(ws, taskId, active, settings);
    return {
      taskId,
      phase: 'idle',
      message: `version ${active.id} is active; the next run starts after ${per} new labels (${fresh} so far)`,
      newLabels: fresh,
      nextRunAt: per,
      suggestionsVersionId,
    };
  }

  private setState(ws: Workspace, state: LoopStateT): void {
    if (this.host.current !== ws) return;
    this.state.set(state.taskId, state);
    this.host.events.emit('loop.state', state);
  }
}
