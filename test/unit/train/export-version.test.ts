import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { dispatch, type Handlers } from '../../../core/api/dispatch';
import type { RequestOf, ResponseOf } from '../../../core/api/contract';
import type { ChannelName } from '../../../core/api/names';
import { createHandlers } from '../../../core/app/handlers';
import { AppSession } from '../../../core/app/session';
import { initBackend } from '../../../core/model/backend';
import { loadAdapterVersion, readAdapterManifest } from '../../../core/model/adapter-file';
import { vitConfigSchema } from '../../../core/model/config';
import { parseSafetensors } from '../../../core/model/safetensors';
import type { Workspace } from '../../../core/store';
import { exportFolderName, exportVersion, VersionExportError } from '../../../core/train/export-version';
import { parseTrainJob } from '../../../core/train/job';
import { releaseBackbones } from '../../../core/train/model-loader';
import { executeTrainingRun } from '../../../core/train/training-run';
import { runCli } from '../../helpers/cli';
import { createTrainFixture, type TrainFixture } from '../../helpers/train-fixture';

let fixture: TrainFixture;
let session: AppSession;
let handlers: Handlers;
let ws: Workspace;
let wsDir: string;
let versionId: number;
let exportsRoot: string;
let counter = 0;

/** A fresh, not yet existing parent folder per test. */
const freshParent = () => path.join(exportsRoot, `out-${++counter}`);
const listing = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

async function call<C extends ChannelName>(channel: C, request: RequestOf<C>) {
  return dispatch(handlers, channel, request, { transport: 'websocket' }) as Promise<
    { ok: true; value: ResponseOf<C> } | { ok: false; error: { code: string; message: string } }
  >;
}

beforeAll(async () => {
  await initBackend();
  fixture = await createTrainFixture();
  // One real (short) training run: the version, its manifest and metrics are what the app stores.
  const run = fixture.ws.runs.create({ taskId: fixture.taskId, method: 'dvpt' });
  const job = parseTrainJob({
    taskId: fixture.taskId,
    backboneId: fixture.backboneId,
    adapter: { method: 'dvpt', bottleneck: 8, numPrompts: 4, share: 2 },
    epochs: 1,
    batchSize: 4,
    // A one-epoch version on the fixture is at chance; the export of the active version needs one.
    promote: 'always',
  });
  const outcome = await executeTrainingRun(fixture.ws, run.id, job);
  if (outcome.status !== 'done') throw new Error(`training failed: ${outcome.error}`);
  versionId = outcome.versionId!;
  wsDir = fixture.ws.dir;
  fixture.ws.close();
  session = new AppSession('test');
  handlers = createHandlers(session);
  session.openWorkspace(wsDir);
  ws = session.requireWorkspace();
  exportsRoot = path.join(fixture.tmp, 'exports');
}, 120_000);

afterAll(() => {
  session?.dispose();
  releaseBackbones();
  if (fixture) fs.rmSync(fixture.tmp, { recursive: true, force: true });
});

describe('exportVersion', () => {
  it('writes the adapter files, which loadAdapterVersion reads back to identical tensors, and a trust manifest', async () => {
    const parent = freshParent();
    const result = await exportVersion(ws, versionId, parent);
    expect(result.dir).toBe(path.join(parent, `medtune-referable-v${versionId}`));
    expect(listing(parent)).toEqual([`medtune-referable-v${versionId}`]);
    expect(listing(result.dir)).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'medtune_version.json']);
    for (const f of result.files) expect(f.bytes).toBe(fs.statSync(path.join(result.dir, f.name)).size);

    const backbone = ws.versions.backbone(fixture.backboneId);
    const config = vitConfigSchema.parse(backbone.config);
    const loaded = await loadAdapterVersion(result.dir, { sha256: backbone.weightsSha256!, config });
    const stored = parseSafetensors(ws.versions.weights(versionId)).tensors;
    expect([...loaded.tensors.keys()].sort()).toEqual([...stored.keys()].sort());
    expect(loaded.tensors.size).toBeGreaterThan(2);
    for (const [name, t] of stored) {
      expect(loaded.tensors.get(name)!.shape).toEqual(t.shape);
      expect(Buffer.from(loaded.tensors.get(name)!.data.buffer)).toEqual(Buffer.from(t.data.buffer));
    }
    expect(loaded.manifest).toMatchObject({
      versionId: String(versionId),
      parentVersionId: null,
      method: 'dvpt',
      labelSchema: { task: 'multiclass', classNames: ['no', 'yes'] },
      backbone: { sha256: backbone.weightsSha256 },
    });
    const version = ws.versions.get(versionId);
    const metrics = version.metrics as { valCount: number; accuracy: number; selection: { name: string; value: number } };
    expect(loaded.manifest.metrics.valCount).toBe(metrics.valCount);
    expect(loaded.manifest.metrics.accuracy).toBe(metrics.accuracy);

    const info = JSON.parse(fs.readFileSync(path.join(result.dir, 'medtune_version.json'), 'utf8'));
    expect(info).toMatchObject({
      format: 'medtune-version-export',
      versionId,
      parentVersionId: null,
      task: { name: 'referable', kind: 'multiclass', classes: ['no', 'yes'] },
      method: 'dvpt',
      labelCount: 20,
      backbone: { name: 'parity-tiny', sha256: backbone.weightsSha256, config: { embedDim: 48, depth: 3 } },
      preprocessing: { size: config.imageSize },
      normalization: { mean: expect.any(Array), std: expect.any(Array) },
      createdAt: version.createdAt,
      appVersion: expect.any(String),
      metrics: {
        selection: { name: metrics.selection.name },
        accuracy: metrics.accuracy,
        validationCount: metrics.valCount,
        confusionMatrix: expect.any(Array),
      },
    });
    expect(info.metrics.confusionMatrix).toHaveLength(2);
    expect(info.files['adapter_model.safetensors'].sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a target folder that exists, naming it, and leaves it untouched', async () => {
    const parent = freshParent();
    const first = await exportVersion(ws, versionId, parent);
    const before = fs.readFileSync(path.join(first.dir, 'adapter_config.json'));
    const err = await exportVersion(ws, versionId, parent).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VersionExportError);
    expect(err).toMatchObject({ code: 'conflict', message: expect.stringContaining(first.dir) });
    expect(fs.readFileSync(path.join(first.dir, 'adapter_config.json'))).toEqual(before);
    expect(listing(parent)).toEqual([path.basename(first.dir)]);
  });

  it('refuses a parent that cannot be a writable folder, naming it', async () => {
    const file = path.join(exportsRoot, 'a-file');
    fs.mkdirSync(exportsRoot, { recursive: true });
    fs.writeFileSync(file, 'not a folder');
    await expect(exportVersion(ws, versionId, file)).rejects.toMatchObject({ code: 'io-error', message: expect.stringContaining(file) });
    await expect(exportVersion(ws, versionId, path.join(file, 'below'))).rejects.toMatchObject({
      code: 'io-error',
      message: expect.stringContaining(path.join(file, 'below')),
    });
  });

  it('leaves no partial folder behind when writing fails half-way', async () => {
    // A version whose stored config claims three classes while its head has two: the failure comes
    // from the adapter-file writer, after the temporary folder was made.
    const good = ws.versions.get(versionId);
    const config = good.config as { adapter: Record<string, unknown>; classes: string[] };
    const task = ws.tasks.create({ name: 'three grades', kind: 'multiclass', classes: ['a', 'b', 'c'] });
    const bad = ws.versions.add({
      taskId: task.id,
      backboneId: good.backboneId,
      method: 'dvpt',
      config: { ...config, adapter: { ...config.adapter, numClasses: 3 }, classes: ['a', 'b', 'c'] },
      weights: { sha256: good.weightsSha256 },
    });
    const parent = freshParent();
    fs.mkdirSync(parent);
    const err = await exportVersion(ws, bad.id, parent).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid', message: expect.stringContaining(`version ${bad.id}`) });
    expect(listing(parent)).toEqual([]);
  });

  it('refuses a version that no training run made (no model manifest) before writing anything', async () => {
    const good = ws.versions.get(versionId);
    const bare = ws.versions.add({ taskId: good.taskId, method: 'dvpt', weights: { sha256: good.weightsSha256 } });
    const parent = freshParent();
    await expect(exportVersion(ws, bare.id, parent)).rejects.toMatchObject({ code: 'invalid', message: expect.stringContaining('no model manifest') });
    expect(listing(parent)).toEqual([]);
  });

  it('refuses damaged stored weights (SHA-256 mismatch) instead of exporting them', async () => {
    const blob = ws.blobs.pathFor(ws.versions.get(versionId).weightsSha256);
    const original = fs.readFileSync(blob);
    const parent = freshParent();
    try {
      fs.writeFileSync(blob, 'tampered');
      await expect(exportVersion(ws, versionId, parent)).rejects.toThrow(/damaged/);
      expect(listing(parent)).toEqual([]);
    } finally {
      fs.writeFileSync(blob, original);
    }
  });

  it('names the folder after the task in a file-system-safe way', () => {
    expect(exportFolderName('Diabetic Retinopathy (grade) — Ünïcode/../x', 7)).toBe('medtune-diabetic-retinopathy-grade-unicode-x-v7');
    expect(exportFolderName('***', 2)).toBe('medtune-task-v2');
  });
});

describe('versions.export through the contract', () => {
  it('answers the folder and the files with their sizes', async () => {
    const parent = freshParent();
    const r = await call('versions.export', { versionId, dir: parent });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.dir).toBe(path.join(parent, `medtune-referable-v${versionId}`));
    expect(r.value.files.map((f) => f.name).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'medtune_version.json']);
    expect(r.value.files.every((f) => f.bytes > 0)).toBe(true);
    await readAdapterManifest(r.value.dir);
  });

  it('gives error values: conflict, not-found, invalid-request', async () => {
    const parent = freshParent();
    expect((await call('versions.export', { versionId, dir: parent })).ok).toBe(true);
    expect(await call('versions.export', { versionId, dir: parent })).toMatchObject({ ok: false, error: { code: 'conflict', message: expect.stringContaining(parent) } });
    expect(await call('versions.export', { versionId: 999, dir: parent })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await call('versions.export', { versionId, dir: '  ' })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
  });
});

describe('medtune train export', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  const run = runCli;


  it('exports a version and refuses to overwrite it', async () => {
    const parent = freshParent();
    const target = path.join(parent, `medtune-referable-v${versionId}`);
    const first = await run(['train', 'export', String(versionId), parent, '-w', wsDir]);
    expect(first).toMatchObject({ code: 0, out: expect.stringContaining(target) });
    expect(first.out).toMatch(/adapter_model\.safetensors {2}\d+ bytes/);
    expect(listing(target)).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'medtune_version.json']);
    const again = await run(['train', '-w', wsDir, 'export', String(versionId), parent]);
    expect(again.code).toBe(1);
    expect(again.err).toContain(`${target} already exists`);
  });

  it("'medtune export adapter --task' writes the task's active version the same way", async () => {
    const parent = freshParent();
    const active = ws.versions.active(ws.versions.get(versionId).taskId)!;
    const task = ws.tasks.get(active.taskId);
    const r = await run(['export', 'adapter', '-w', wsDir, '--task', task.name, '--out', parent]);
    expect(r.code).toBe(0);
    const target = path.join(parent, exportFolderName(task.name, active.id));
    expect(r.out).toContain(path.join(target, 'adapter_model.safetensors'));
    expect(listing(target)).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'medtune_version.json']);
  });

  it('says what is missing or wrong', async () => {
    expect(await run(['train', 'export', String(versionId), freshParent()])).toMatchObject({ code: 2, err: expect.stringMatching(/--workspace <dir>/) });
    expect(await run(['train', 'export', 'latest', freshParent(), '-w', wsDir])).toMatchObject({ code: 2, err: expect.stringMatching(/positive integer/) });
  });
});
