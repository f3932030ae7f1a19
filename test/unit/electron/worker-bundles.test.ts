import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecodePool } from '../../../core/imaging/decode-pool';
import { decodeImageFile } from '../../../core/imaging/decode-file';
import { TrainingService, workerThreadTrainer } from '../../../core/train/service';
import { DICOM_DIR } from '../../helpers/paths';
import { createTrainFixture, type TrainFixture } from '../../helpers/train-fixture';

// Electron itself cannot run here, but the code it runs can: the trainer and replica bundles that
// scripts/build-electron.mjs writes, started as a worker thread (trainer-worker also speaks
// utilityProcess's port), must train on the wasm backend with their replicas found beside them.
const repo = path.resolve(import.meta.dirname, '../../..');
let fixture: TrainFixture;
const savedReplicas = process.env.MEDTUNE_TRAIN_REPLICAS;

beforeAll(async () => {
  // Two replicas whatever this machine's core count (worker threads inherit the environment).
  process.env.MEDTUNE_TRAIN_REPLICAS = '2';
  const built = spawnSync(process.execPath, ['scripts/build-electron.mjs'], { cwd: repo, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`build:electron failed: ${built.stderr}`);
  fixture = await createTrainFixture();
}, 120_000);

afterAll(() => {
  fixture?.dispose();
  if (savedReplicas === undefined) delete process.env.MEDTUNE_TRAIN_REPLICAS;
  else process.env.MEDTUNE_TRAIN_REPLICAS = savedReplicas;
});

describe('the bundled desktop workers', () => {
  it('trains a version on wasm with data-parallel replicas from dist/electron', async () => {
    const messages: string[] = [];
    const bundle = pathToFileURL(path.join(repo, 'dist/electron/trainer-worker.cjs'));
    const service = new TrainingService(fixture.ws, { onRunEvent: (e) => e.message && messages.push(e.message) }, () => workerThreadTrainer(bundle));
    try {
      const run = service.enqueueTraining({
        taskId: fixture.taskId,
        backboneId: fixture.backboneId,
        adapter: { method: 'dvpt', bottleneck: 8, numPrompts: 4, share: 2 },
        epochs: 1,
        batchSize: 4,
      });
      const outcome = await service.waitForRun(run.id);
      expect(outcome.status, outcome.error).toBe('done');
      expect(service.backendName).toBe('wasm');
      expect(messages).toContain('computing on 2 data-parallel replicas (wasm backend)');
    } finally {
      await service.close();
    }
  }, 120_000);

  it('decodes a compressed DICOM in the bundled decode-pool worker as in this thread', async () => {
    const pool = new DecodePool({ size: 1, workerUrl: pathToFileURL(path.join(repo, 'dist/electron/decode-pool-worker.cjs')) });
    try {
      // JPEG 2000: the codec's wasm must be found from the bundle as well.
      const file = path.join(DICOM_DIR, 'pydicom_debian/MR_small_jp2klossless.dcm');
      const [bundled, direct] = await Promise.all([pool.decodeFile(file), decodeImageFile(file)]);
      expect([bundled.columns, bundled.rows]).toEqual([direct.columns, direct.rows]);
      expect(Buffer.from(bundled.frames[0].buffer, bundled.frames[0].byteOffset, bundled.frames[0].byteLength).equals(
        Buffer.from(direct.frames[0].buffer, direct.frames[0].byteOffset, direct.frames[0].byteLength),
      )).toBe(true);
    } finally {
      await pool.close();
    }
  });
});
