import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { initBackend } from '../../core/model/backend';
import { Workspace } from '../../core/store';
import { releaseBackbones } from '../../core/train/model-loader';
import { FUNDUS_DIR, PARITY_DIR } from './paths';

export interface TrainFixture {
  tmp: string;
  ws: Workspace;
  taskId: number;
  backboneId: number;
  dispose(): void;
}

/**
 * A workspace with the 20 DRIVE fundus photographs imported, the tiny parity ViT as its backbone and
 * a two-class task with every case labelled (every third case 'yes').
 */
export async function createTrainFixture(): Promise<TrainFixture> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-train-'));
  const ws = Workspace.create(path.join(tmp, 'ws'));
  const report = await ws.import([path.join(FUNDUS_DIR, 'DRIVE', 'training', 'images')]);
  if (report.imported !== 20) throw new Error(`expected 20 DRIVE images, imported ${report.imported}`);
  const backboneId = ws.versions.addBackbone({
    name: 'parity-tiny',
    arch: 'vit',
    config: JSON.parse(fs.readFileSync(path.join(PARITY_DIR, 'backbone.json'), 'utf8')),
    weights: fs.readFileSync(path.join(PARITY_DIR, 'backbone-timm.safetensors')),
  }).id;
  const taskId = ws.tasks.create({ name: 'referable', kind: 'multiclass', classes: ['no', 'yes'] }).id;
  const cases = ws.listCases({ limit: 100 }).items;
  ws.labels.setMany(cases.map((c, i) => ({ caseId: c.id, taskId, value: i % 3 === 0 ? 'yes' : 'no', author: 'test' })));
  return {
    tmp,
    ws,
    taskId,
    backboneId,
    dispose: () => {
      ws.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/**
 * Registers beforeAll/afterAll for a test file that trains in one shared fixture workspace: the backend
 * is chosen, the fixture made and handed to `onReady`, and afterwards freed with the cached backbones.
 */
export function useTrainFixture(onReady: (fixture: TrainFixture) => void): void {
  let fixture: TrainFixture | undefined;
  beforeAll(async () => {
    await initBackend();
    fixture = await createTrainFixture();
    onReady(fixture);
  });
  afterAll(() => {
    fixture?.dispose();
    releaseBackbones();
  });
}
