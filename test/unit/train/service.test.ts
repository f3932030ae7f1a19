import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Workspace } from '../../../core/store';
import { TrainingService, workerThreadTrainer } from '../../../core/train/service';
import type { RunEvent } from '../../../core/train/training-run';
import { createTrainFixture, type TrainFixture } from '../../helpers/train-fixture';

let f: TrainFixture;

beforeAll(async () => {
  f = await createTrainFixture();
});

afterAll(() => f?.dispose());

const job = () => ({ taskId: f.taskId, backboneId: f.backboneId, adapter: { method: 'linear' as const }, epochs: 2, batchSize: 4 });

describe('TrainingService (real worker thread)', () => {
  it('refuses adapter layers the backbone does not have when the run is queued, not later in the trainer', async () => {
    const service = new TrainingService(f.ws);
    try {
      const before = f.ws.runs.list(undefined, 1000).length;
      expect(() => service.enqueueTraining({ ...job(), adapter: { method: 'dvpt', lastLayers: 99 } })).toThrow(/lastLayers 99 exceeds the backbone's \d+ blocks/);
      expect(f.ws.runs.list(undefined, 1000)).toHaveLength(before);
    } finally {
      await service.close();
    }
  });

  it('runs one job at a time in the trainer thread, queues the rest, and cancels a queued run', async () => {
    const events: RunEvent[] = [];
    const service = new TrainingService(f.ws, { onRunEvent: (e) => events.push(e) });
    try {
      const first = service.enqueueTraining(job());
      const second = service.enqueueTraining(job());
      const third = service.enqueueTraining(job());
      expect(service.pending()).toEqual([
        { runId: first.id, status: 'running' },
        { runId: second.id, status: 'queued' },
        { runId: third.id, status: 'queued' },
      ]);
      expect(service.cancelRun(second.id)).toBe(true);
      expect(f.ws.runs.get(second.id).status).toBe('cancelled');
      const outcome = await service.waitForRun(first.id);
      expect(outcome.status).toBe('done');
      expect(f.ws.runs.get(first.id)).toMatchObject({ status: 'done', resultVersionId: outcome.versionId });
      expect(events.some((e) => e.runId === first.id && e.phase === 'training')).toBe(true);
      const thirdOutcome = await service.waitForRun(third.id);
      expect(thirdOutcome.status).toBe('done');
      expect(service.backendName).toBeTruthy();
      // Prediction goes through the same trainer.
      const predicted = await service.predict({ taskId: f.taskId });
      expect(predicted.predicted).toBe(20);
    } finally {
      await service.close();
    }
  });

  it('cancels a running job', async () => {
    const service = new TrainingService(f.ws, {
      onRunEvent: (e) => {
        if (e.phase === 'training' && e.step === 1) service.cancelRun(e.runId);
      },
    });
    try {
      const run = service.enqueueTraining({ ...job(), epochs: 50, linearSolver: 'gradient' });
      expect((await service.waitForRun(run.id)).status).toBe('cancelled');
      expect(f.ws.runs.get(run.id).status).toBe('cancelled');
    } finally {
      await service.close();
    }
  });

  it('marks the run failed when the trainer dies, and starts a fresh trainer for the next job', async () => {
    let spawned = 0;
    const crashing = new URL('../../helpers/workers/crashing-trainer.mjs', import.meta.url);
    const service = new TrainingService(f.ws, {}, () => (++spawned === 1 ? workerThreadTrainer(crashing) : workerThreadTrainer()));
    try {
      const doomed = service.enqueueTraining(job());
      const next = service.enqueueTraining(job());
      const outcome = await service.waitForRun(doomed.id);
      expect(outcome.status).toBe('failed');
      expect(f.ws.runs.get(doomed.id).error).toMatch(/exit code 3/);
      expect((await service.waitForRun(next.id)).status).toBe('done');
      expect(spawned).toBe(2);
    } finally {
      await service.close();
    }
  });

  it("relays another connection's run from the runs table, and never its own runs twice", async () => {
    const mineEvents: RunEvent[] = [];
    const otherEvents: RunEvent[] = [];
    const owner = new TrainingService(f.ws, { onRunEvent: (e) => mineEvents.push(e) }, undefined, { pollMs: 50, liveWriteMs: 0 });
    const otherWs = Workspace.open(f.ws.dir);
    const watcher = new TrainingService(otherWs, { onRunEvent: (e) => otherEvents.push(e) }, undefined, { pollMs: 50 });
    try {
      const run = owner.enqueueTraining({ ...job(), epochs: 3 });
      expect((await owner.waitForRun(run.id)).status).toBe('done');
      // Let both services poll after the run ended (no timing assertion: only that nothing is duplicated).
      const polledAfterEnd = async (s: TrainingService) => {
        for (let i = 0; i < 3; i++) {
          s.pollOthers();
          await new Promise((r) => setTimeout(r, 60));
        }
      };
      await polledAfterEnd(owner);
      await polledAfterEnd(watcher);
      expect(mineEvents.filter((e) => e.runId === run.id && e.status === 'done')).toHaveLength(1);
      const relayed = otherEvents.filter((e) => e.runId === run.id);
      expect(relayed.at(-1)).toMatchObject({ status: 'done', phase: 'finished', fraction: 1, versionId: f.ws.runs.get(run.id).resultVersionId });
      expect(relayed.filter((e) => e.status === 'done')).toHaveLength(1);
      expect(f.ws.runs.get(run.id).live).toMatchObject({ phase: expect.any(String), fraction: expect.any(Number) });
    } finally {
      await owner.close();
      await watcher.close();
      otherWs.close();
    }
  });

  it('refuses a job for an unknown task or backbone before queueing it', () => {
    const service = new TrainingService(f.ws);
    expect(() => service.enqueueTraining({ ...job(), taskId: 999 })).toThrow(/task/);
    expect(() => service.enqueueTraining({ ...job(), backboneId: 999 })).toThrow(/ackbone/);
    expect(() => service.enqueueTraining({ ...job(), lr: -1 })).toThrow(/lr/);
    void service.close();
  });
});
