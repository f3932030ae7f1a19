import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Workspace } from '../../../core/store';
import { releaseBackbones, versionManifest } from '../../../core/train/model-loader';
import { runCli } from '../../helpers/cli';
import { createTrainFixture, type TrainFixture } from '../../helpers/train-fixture';

// `medtune train` on a real workspace: 20 DRIVE photos and the depth-3 parity ViT (test/helpers/train-fixture).
let fixture: TrainFixture;
let wsDir: string;

beforeAll(async () => {
  fixture = await createTrainFixture();
  wsDir = fixture.ws.dir;
  // The CLI opens the workspace itself; the checks below reopen it.
  fixture.ws.close();
});

afterAll(() => {
  releaseBackbones();
  if (fixture) fs.rmSync(fixture.tmp, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

const cli = runCli;

function inWorkspace<T>(fn: (ws: Workspace) => T): T {
  const ws = Workspace.open(wsDir);
  try {
    return fn(ws);
  } finally {
    ws.close();
  }
}

const train = (...extra: string[]) => cli(['train', '-w', wsDir, '--task', 'referable', '--epochs', '1', '--batch-size', '4', ...extra]);
const newestRun = (ws: Workspace) => ws.runs.list(undefined, 1)[0];
const logMessages = (ws: Workspace, runId: number) => ws.runs.get(runId).progress.map((e) => (e as { message?: string }).message ?? '');

describe('medtune train: adapter layers and the prefix cache', () => {
  it('--last-layers 1 (DVPT) trains blocks 2..2 only: the version stores startLayer 2, the run log and metrics say the cache was used', async () => {
    const r = await train('--method', 'dvpt', '--bottleneck', '8', '--prompts', '4', '--share', '2', '--last-layers', '1', '--fresh');
    expect(r.err).not.toMatch(/medtune: /);
    expect(r.code).toBe(0);
    const printed = /^version \d+ (is now active|kept as a candidate): /m.exec(r.out);
    expect(printed).not.toBeNull();
    expect(r.err).toContain('preparing: prefix cache on: frozen blocks 0..1 run once per image');
    inWorkspace((ws) => {
      const run = newestRun(ws);
      expect(run).toMatchObject({ status: 'done', method: 'dvpt' });
      expect(run.config).toMatchObject({ adapter: { method: 'dvpt', lastLayers: 1 }, prefixCache: 'auto' });
      expect(logMessages(ws, run.id).some((m) => m.startsWith('prefix cache on: frozen blocks 0..1'))).toBe(true);
      const version = ws.versions.get(run.resultVersionId!);
      // What the command says is what the workspace holds (a first version at chance stays a candidate).
      expect(version.status).toBe(printed![1] === 'is now active' ? 'active' : 'candidate');
      expect(versionManifest(version).adapter).toMatchObject({ method: 'dvpt', startLayer: 2, bottleneck: 8, share: 2 });
      expect(version.metrics).toMatchObject({ prefixCache: { used: true, startLayer: 2 } });
    });
  });

  it('--prefix-cache off (EPT, --last-layers 2) prompts blocks 1..2 and records that the cache was turned off', async () => {
    const r = await train('--method', 'ept', '--prompt-length', '4', '--last-layers', '2', '--prefix-cache', 'off', '--fresh', '--promote', 'never');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/kept as a candidate/);
    inWorkspace((ws) => {
      const run = newestRun(ws);
      expect(run.config).toMatchObject({ prefixCache: 'off' });
      expect(logMessages(ws, run.id)).toContain('prefix cache off: turned off for this run');
      const version = ws.versions.get(run.resultVersionId!);
      expect(versionManifest(version).adapter).toMatchObject({ method: 'ept', layers: [1, 2] });
      expect(version.metrics).toMatchObject({ prefixCache: { used: false, reason: 'prefix cache off: turned off for this run' } });
    });
  });

  it('refuses options that do not fit the method or the backbone with exit code 2, before a run is recorded', async () => {
    const runsBefore = inWorkspace((ws) => ws.runs.list(undefined, 1000).length);
    const cases: [string[], RegExp][] = [
      [['--method', 'linear', '--last-layers', '1'], /--last-layers applies to EPT and DVPT and LORA only, not to --method linear/],
      [['--method', 'ept', '--start-layer', '1'], /--start-layer applies to DVPT only, not to --method ept/],
      [['--method', 'dvpt', '--start-layer', '1', '--last-layers', '1'], /invalid training job: adapter: give either startLayer or lastLayers, not both/],
      [['--method', 'dvpt', '--last-layers', '4'], /invalid training job: adapter: lastLayers 4 exceeds the backbone's 3 blocks/],
      [['--method', 'ept', '--last-layers', '0'], /invalid training job: adapter\.lastLayers: /],
      [['--method', 'dvpt', '--start-layer', '3'], /invalid training job: adapter: startLayer 3 does not exist in a backbone of depth 3/],
      [['--prefix-cache', 'sometimes'], /prefix cache must be one of auto, off/],
      [['--last-layers', 'two'], /lastLayers must be a non-negative integer/],
    ];
    for (const [args, message] of cases) {
      const r = await train(...args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.err).toMatch(message);
    }
    expect(inWorkspace((ws) => ws.runs.list(undefined, 1000).length)).toBe(runsBefore);
  });
});
