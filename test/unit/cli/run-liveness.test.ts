import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Workspace, type TrainRun } from '../../../core/store';
import { TrainingService } from '../../../core/train/service';
import type { RunEvent } from '../../../core/train/training-run';
import { REPO_ROOT } from '../../helpers/paths';
import { createTrainFixture, type TrainFixture } from '../../helpers/train-fixture';

// `medtune train` in a real child process on the fixture workspace (20 DRIVE photos, the depth-3
// parity ViT), seen from this process as the app would see it.
let f: TrainFixture;

beforeAll(async () => {
  f = await createTrainFixture();
});

afterAll(() => f?.dispose());

interface CliChild {
  child: ChildProcess;
  exit: Promise<number | null>;
  stderr: () => string;
}

/** A long gradient-trained run (DVPT; method linear is a one-shot probe fit now, the prefix cache off so that epochs take real time), in its own process. */
function startCliTraining(): CliChild {
  const child = spawn(
    process.execPath,
    [path.join(REPO_ROOT, 'bin', 'medtune.mjs'), 'train', '-w', f.ws.dir, '--task', 'referable', '--method', 'dvpt', '--epochs', '500', '--patience', '0', '--batch-size', '4', '--prefix-cache', 'off', '--fresh', '--promote', 'never'],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr!.on('data', (d) => (err += String(d)));
  child.stdout!.resume();
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exit, stderr: () => err };
}

/** Waits (without a time assertion) until `check` holds, failing with what was last seen. */
async function waitFor<T>(what: string, check: () => T | undefined | false, cli?: CliChild): Promise<T> {
  const deadline = Date.now() + 150_000;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}${cli ? `; the CLI wrote:\n${cli.stderr()}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The CLI's run once it trains (its owner is the child, its progress is in the row). */
function trainingRunOf(cli: CliChild): Promise<TrainRun> {
  return waitFor(
    'the CLI run to train',
    () => f.ws.runs.list(undefined, 5).find((r) => r.owner?.pid === cli.child.pid && r.status === 'running' && r.live?.phase === 'training'),
    cli,
  );
}

describe('runs of another process', () => {
  it('a `medtune train` killed with SIGKILL is failed when the workspace is next opened, naming its pid', async () => {
    const cli = startCliTraining();
    const run = await trainingRunOf(cli);
    expect(run.owner).toMatchObject({ pid: cli.child.pid });
    expect(cli.stderr()).toContain(`training run ${run.id} queued (pid ${cli.child.pid})`);
    cli.child.kill('SIGKILL');
    await cli.exit;
    expect(f.ws.runs.get(run.id).status).toBe('running'); // nothing noticed yet

    const reopened = Workspace.open(f.ws.dir);
    const events: RunEvent[] = [];
    const service = new TrainingService(reopened, { onRunEvent: (e) => events.push(e) }, undefined, { pollMs: 0 });
    try {
      expect(reopened.runs.get(run.id)).toMatchObject({ status: 'failed', error: `the process that ran it (pid ${cli.child.pid}) stopped` });
      expect(events).toContainEqual(expect.objectContaining({ runId: run.id, status: 'failed', phase: 'finished', error: `the process that ran it (pid ${cli.child.pid}) stopped` }));
    } finally {
      await service.close();
      reopened.close();
    }
  });

  it("opening the app's service leaves a live CLI run alone, relays its progress, and sees Ctrl-C cancel it", async () => {
    const cli = startCliTraining();
    const run = await trainingRunOf(cli);
    const events: RunEvent[] = [];
    const reopened = Workspace.open(f.ws.dir);
    const service = new TrainingService(reopened, { onRunEvent: (e) => events.push(e) }, undefined, { pollMs: 200 });
    try {
      expect(reopened.runs.get(run.id).status).toBe('running');
      const seen = await waitFor('a progress event of the CLI run', () => events.find((e) => e.runId === run.id && e.status === 'running' && e.phase === 'training' && e.epoch !== undefined), cli);
      expect(seen).toMatchObject({ taskId: f.taskId, epochs: 500 });
      expect(seen.fraction).toBeGreaterThan(0);
      // Heartbeats keep coming while it runs; a reconcile now still fails nothing.
      const beat = reopened.runs.get(run.id).heartbeatAt!;
      await waitFor('a newer heartbeat', () => reopened.runs.get(run.id).heartbeatAt! > beat, cli);
      expect(service.reconcile()).toEqual([]);

      cli.child.kill('SIGINT');
      expect(await cli.exit).toBe(130);
      expect(cli.stderr()).toMatch(new RegExp(`medtune: training run ${run.id} cancelled`));
      expect(reopened.runs.get(run.id).status).toBe('cancelled');
      await waitFor('the cancelled event', () => events.find((e) => e.runId === run.id && e.status === 'cancelled'));
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
      await service.close();
      reopened.close();
    }
  });
});
