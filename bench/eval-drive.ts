/**
 * DRIVE retinal-vessel segmentation (issue 16): a SETR-PUP-like head (core/model/segmentation-head.ts)
 * on a small frozen ViT with random weights, trained with an adapter (DVPT by default) on 15 of
 * DRIVE's 20 training photographs and validated on the other 5 (folds of 5 images), next to a
 * PyTorch reference of the same backbone, head, adapter, initial values and crop schedule
 * (bench/reference/segmentation.py) and the published U-Net range.
 *
 * Input handling: full resolution, tiles at the backbone's input size (32×32, patch 4). Training
 * draws random tiles whose centre lies in the field of view; validation tiles the whole image and
 * stitches the foreground probabilities. Metrics are computed inside the FOV mask.
 *
 *   npm run eval:drive [-- --quick] [--folds N] [--steps N] [--adapter dvpt|ept|lora|linear] [--no-reference]
 *                      [--backbone random|standin|standin-random] [--pretrain-epochs N]
 *
 * `--backbone standin`: the best backbone this machine can build, the MedMNIST stand-in foundation
 * model (bench/standin-backbone.ts: a ViT trained from scratch on PneumoniaMNIST, then frozen) with a
 * 4-pixel patch instead of 7 (the head needs a power-of-two patch), so DRIVE is cut into 28×28 tiles.
 * `--backbone standin-random`: the same architecture and tiles with random weights, the control.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { parseAdapterConfig } from '../core/model/adapter-config';
import { describeBackend, initBackend } from '../core/model/backend';
import type { ViTConfig } from '../core/model/config';
import type { BackboneWeights } from '../core/model/checkpoint';
import { randomBackboneWeights } from '../core/model/random-weights';
import { writeSafetensorsFile } from '../core/model/safetensors';
import { SegmentationModel, type SegmentationHeadConfig } from '../core/model/segmentation-head';
import { ViTBackbone } from '../core/model/vit';
import { AUGMENTATION_PRESETS } from '../core/train/augment';
import { readMedMnist } from '../core/train/medmnist';
import { binarySegmentationReport, type BinarySegmentationReport, type ImageResult } from '../core/segmentation/metrics';
import { readBinaryMask } from '../core/segmentation/png-mask';
import { cropWindow, pasteTile, tileGrid } from '../core/segmentation/tiling';
import type { AdapterMethod } from '../core/vocabulary';
import { mulberry32 } from '../core/util/prng';
import { medmnistSamples, pretrainStandIn, STANDIN_BACKBONE } from './standin-backbone';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED_DATA = path.join(process.env.MEDTUNE_SHARED ?? path.resolve(REPO, '..', 'shared'), 'data');
const DRIVE_DIR = path.join(SHARED_DATA, 'fundus', 'DRIVE', 'training');

/** Small ViT, random weights: 32×32 tiles of 4×4 patches (65 tokens). Weak by construction. */
const RANDOM_BACKBONE: ViTConfig = {
  architecture: 'vit', imageSize: 32, patchSize: 4, embedDim: 64, depth: 4, numHeads: 4, mlpRatio: 4,
  qkvBias: true, layerNormEps: 1e-6, gelu: 'erf', classToken: true, pool: 'token', finalNorm: true,
};
/** The stand-in's architecture at 28×28 with 4×4 patches (49 tokens): same width, depth and heads. */
const STANDIN_DRIVE_BACKBONE: ViTConfig = { ...STANDIN_BACKBONE, patchSize: 4 };
/** Chosen once from --backbone before anything else runs; every tile has its input size. */
let BACKBONE: ViTConfig = RANDOM_BACKBONE;
/** Published U-Net results on DRIVE (e.g. Ronneberger-style U-Nets as reported in R2U-Net, Alom et al. 2018; SA-UNet, Guo et al. 2021). */
const UNET_RANGE = { dice: '0.80–0.82', auc: '0.97–0.98' };

interface Options {
  quick: boolean; folds: number; steps: number; batch: number; lr: number; adapter: AdapterMethod; reference: boolean; channels: number; seed: number;
  backbone: 'random' | 'standin' | 'standin-random'; pretrainEpochs: number;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const o: Options = {
    quick,
    folds: Number(value('--folds') ?? (quick ? 1 : 4)),
    steps: Number(value('--steps') ?? (quick ? 150 : 1500)),
    batch: Number(value('--batch') ?? 16),
    lr: Number(value('--lr') ?? 2e-3),
    adapter: (value('--adapter') ?? 'dvpt') as AdapterMethod,
    reference: !argv.includes('--no-reference'),
    channels: Number(value('--channels') ?? (quick ? 16 : 32)),
    seed: Number(value('--seed') ?? 1),
    backbone: (value('--backbone') ?? 'random') as Options['backbone'],
    pretrainEpochs: Number(value('--pretrain-epochs') ?? 8),
  };
  if (!(o.folds >= 1 && o.folds <= 4)) throw new Error(`--folds must be 1..4, got ${value('--folds')}`);
  if (!['random', 'standin', 'standin-random'].includes(o.backbone)) throw new Error(`--backbone must be random, standin or standin-random, got ${o.backbone}`);
  if (!(Number.isInteger(o.pretrainEpochs) && o.pretrainEpochs >= 1)) throw new Error(`--pretrain-epochs must be a positive integer, got ${value('--pretrain-epochs')}`);
  return o;
}

interface DriveImage { id: string; width: number; height: number; rgb: Uint8Array; vessels: Uint8Array; fov: Uint8Array }

async function loadDrive(): Promise<DriveImage[]> {
  const files = (await fs.readdir(path.join(DRIVE_DIR, 'images'))).filter((f) => f.endsWith('.tif')).sort();
  if (files.length !== 20) throw new Error(`${DRIVE_DIR}/images: expected 20 .tif photographs, found ${files.length}`);
  return Promise.all(files.map(async (f) => {
    const id = f.split('_')[0];
    const { data, info } = await sharp(path.join(DRIVE_DIR, 'images', f)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const vessels = await readBinaryMask(path.join(DRIVE_DIR, '1st_manual', `${id}_manual1.gif`));
    const fov = await readBinaryMask(path.join(DRIVE_DIR, 'mask', `${id}_training_mask.gif`));
    if (vessels.width !== info.width || fov.width !== info.width || vessels.height !== info.height) throw new Error(`${f}: masks differ in size from the photograph`);
    return { id, width: info.width, height: info.height, rgb: new Uint8Array(data), vessels: vessels.labels, fov: fov.labels };
  }));
}

/** steps×batch crops (image, y0, x0) from the training images, centres inside the FOV. */
function cropSchedule(images: DriveImage[], train: number[], steps: number, batch: number, seed: number): Int32Array {
  const S = BACKBONE.imageSize;
  const next = mulberry32(seed);
  const out = new Int32Array(steps * batch * 3);
  for (let i = 0; i < steps * batch; i++) {
    for (;;) {
      const k = train[Math.floor(next() * train.length)];
      const im = images[k];
      const y0 = Math.floor(next() * (im.height - S + 1));
      const x0 = Math.floor(next() * (im.width - S + 1));
      if (!im.fov[(y0 + S / 2) * im.width + x0 + S / 2]) continue;
      out.set([k, y0, x0], i * 3);
      break;
    }
  }
  return out;
}

/** (v/255 − 0.5)/0.5, the stand-in's HALF normalisation. */
const normalise = (rgb: Uint8Array) => Float32Array.from(rgb, (v) => v / 127.5 - 1);

function trainFold(model: SegmentationModel, images: DriveImage[], schedule: Int32Array, o: Options): number[] {
  const S = BACKBONE.imageSize;
  const optimizer = tf.train.adam(o.lr, 0.9, 0.999, 1e-8);
  const vars = model.trainableVariables();
  const losses: number[] = [];
  for (let step = 0; step < o.steps; step++) {
    const rgb = new Uint8Array(o.batch * S * S * 3);
    const lab = new Uint8Array(o.batch * S * S);
    const fov = new Uint8Array(o.batch * S * S);
    for (let b = 0; b < o.batch; b++) {
      const [k, y0, x0] = schedule.subarray((step * o.batch + b) * 3, (step * o.batch + b) * 3 + 3);
      const im = images[k];
      cropWindow(im.rgb, im.width, im.height, 3, x0, y0, S, rgb, b * S * S * 3);
      cropWindow(im.vessels, im.width, im.height, 1, x0, y0, S, lab, b * S * S);
      cropWindow(im.fov, im.width, im.height, 1, x0, y0, S, fov, b * S * S);
    }
    const loss = tf.tidy(() => {
      const x = tf.tensor4d(normalise(rgb), [o.batch, S, S, 3]);
      const y = tf.tensor3d(lab, [o.batch, S, S], 'int32');
      const w = tf.tensor3d(fov, [o.batch, S, S], 'float32');
      return optimizer.minimize(() => model.loss(x, y, w), true, vars)!;
    });
    losses.push(loss.dataSync()[0]);
    loss.dispose();
    if ((step + 1) % Math.max(1, Math.floor(o.steps / 5)) === 0) console.log(`  step ${step + 1}/${o.steps}  loss ${losses.at(-1)!.toFixed(4)}`);
  }
  optimizer.dispose();
  return losses;
}

/** Foreground probability of a whole image, tile by tile. */
function predictImage(model: SegmentationModel, im: DriveImage, batchSize = 32): Float32Array {
  const S = BACKBONE.imageSize;
  const grid = tileGrid(im.width, im.height, S);
  const out = new Float32Array(im.width * im.height);
  const count = grid.cols * grid.rows;
  for (let t0 = 0; t0 < count; t0 += batchSize) {
    const n = Math.min(batchSize, count - t0);
    const rgb = new Uint8Array(n * S * S * 3);
    for (let i = 0; i < n; i++) {
      const t = t0 + i;
      cropWindow(im.rgb, im.width, im.height, 3, (t % grid.cols) * S, Math.floor(t / grid.cols) * S, S, rgb, i * S * S * 3);
    }
    const fg = tf.tidy(() => tf.slice(model.probabilities(tf.tensor4d(normalise(rgb), [n, S, S, 3])), [0, 0, 0, 1], [-1, -1, -1, 1]));
    const values = fg.dataSync() as Float32Array;
    fg.dispose();
    for (let i = 0; i < n; i++) pasteTile(grid, t0 + i, values, i * S * S, 1, out);
  }
  return out;
}

function adapterSpec(method: AdapterMethod): Record<string, unknown> {
  if (method === 'dvpt') return { method, bottleneck: 16, numPrompts: 8, share: 2 };
  if (method === 'ept') return { method, promptLength: 8, layers: [...Array(BACKBONE.depth).keys()] };
  if (method === 'lora') return { method, rank: 4, alpha: 8 };
  return { method };
}

/** Runs the PyTorch reference on the same data, schedule and initial tensors; its val probabilities. */
async function runReference(dir: string, images: DriveImage[], val: number[]): Promise<Float32Array[] | string> {
  const script = path.join(REPO, 'bench', 'reference', 'segmentation.py');
  const r = spawnSync('/usr/bin/python3', [script, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (r.status !== 0) {
    const how = r.signal ? `killed by ${r.signal}` : r.error ? r.error.message : `exit ${r.status}`;
    return `PyTorch reference failed (${how}): ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}`;
  }
  const raw = await fs.readFile(path.join(dir, 'reference-probs.f32'));
  const all = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const out: Float32Array[] = [];
  let o = 0;
  for (const k of val) {
    const n = images[k].width * images[k].height;
    out.push(all.slice(o, o + n));
    o += n;
  }
  return out;
}

const fmt = (x: number) => x.toFixed(3);
const row = (name: string, r: BinarySegmentationReport) =>
  `${name.padEnd(26)} Dice ${fmt(r.dice.mean)} [${fmt(r.dice.low)}, ${fmt(r.dice.high)}]  IoU ${fmt(r.iou.mean)}  Se ${fmt(r.sensitivity)}  Sp ${fmt(r.specificity)}  Acc ${fmt(r.accuracy)}  AUC ${fmt(r.auc)}`;

/** The stand-in foundation model at DRIVE's geometry: trained on PneumoniaMNIST (28×28) with eval:medmnist's recipe, then frozen. */
async function pretrainedStandIn(o: Options): Promise<BackboneWeights> {
  const file = path.join(SHARED_DATA, 'medmnist', 'pneumoniamnist_reduced_train.npz');
  const pneumonia = await readMedMnist(file);
  const t0 = Date.now();
  const { backbone, result } = await pretrainStandIn(medmnistSamples(pneumonia.train), medmnistSamples(pneumonia.val), {
    numClasses: 2, epochs: o.pretrainEpochs, seed: o.seed, augmentation: AUGMENTATION_PRESETS.radiograph, config: BACKBONE,
    onEpoch: (epoch, epochs, loss, auc) => console.log(`  pretrain epoch ${epoch}/${epochs}: val loss ${loss.toFixed(3)}, val AUC ${auc.toFixed(3)}`),
  });
  console.log(`backbone pretrained on PneumoniaMNIST (${pneumonia.train.n} images, ${o.pretrainEpochs} epochs) in ${((Date.now() - t0) / 1000).toFixed(0)} s; best val AUC ${Math.max(...result.history.map((h) => h.selection?.value ?? NaN)).toFixed(3)}`);
  const weights = backbone.exportWeights();
  backbone.dispose();
  return weights;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  BACKBONE = o.backbone === 'random' ? RANDOM_BACKBONE : STANDIN_DRIVE_BACKBONE;
  const backend = await initBackend();
  console.log(`DRIVE vessel segmentation — backend ${describeBackend(backend)}`);
  console.log(o.backbone === 'standin'
    ? `backbone: the MedMNIST stand-in, ViT ${BACKBONE.imageSize}px/${BACKBONE.patchSize} D${BACKBONE.embedDim}×${BACKBONE.depth}, pretrained on PneumoniaMNIST here, frozen`
    : `backbone: ViT ${BACKBONE.imageSize}px/${BACKBONE.patchSize} D${BACKBONE.embedDim}×${BACKBONE.depth}, RANDOM weights (no pretrained model here): weak by design`);
  const pretrained = o.backbone === 'standin' ? await pretrainedStandIn(o) : null;
  console.log(`input: full resolution, ${BACKBONE.imageSize}×${BACKBONE.imageSize} tiles; train on random FOV tiles, ${o.steps} steps × ${o.batch}; metrics inside the FOV`);
  const images = await loadDrive();
  const ours: ImageResult[] = [];
  const theirs: ImageResult[] = [];
  let referenceNote = '';
  for (let fold = 0; fold < o.folds; fold++) {
    const val = [0, 1, 2, 3, 4].map((i) => fold * 5 + i);
    const train = images.map((_, i) => i).filter((i) => !val.includes(i));
    console.log(`fold ${fold + 1}/${o.folds}: validate on ${val.map((i) => images[i].id).join(', ')}`);
    const weights = pretrained ?? randomBackboneWeights(BACKBONE, o.seed + fold);
    const backbone = new ViTBackbone(BACKBONE, weights);
    const adapter = parseAdapterConfig({ ...adapterSpec(o.adapter), numClasses: 2, task: 'multiclass' }, 'eval-drive');
    const head: SegmentationHeadConfig = { numClasses: 2, channels: o.channels };
    const model = new SegmentationModel(backbone, adapter, head, o.seed + fold);
    const counts = model.parameterCount();
    if (fold === 0) console.log(`adapter ${o.adapter}: ${counts.adapter} parameters; decoder ${counts.head}`);
    const schedule = cropSchedule(images, train, o.steps, o.batch, o.seed * 100 + fold);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'medtune-drive-'));
    try {
      if (o.reference) {
        await writeSafetensorsFile(path.join(dir, 'backbone.safetensors'), weights);
        await writeSafetensorsFile(path.join(dir, 'init.safetensors'), await model.exportTensors());
        await fs.writeFile(path.join(dir, 'schedule.i32'), schedule);
        for (const [name, pick] of [['rgb', (im: DriveImage) => im.rgb], ['vessels', (im: DriveImage) => im.vessels], ['fov', (im: DriveImage) => im.fov]] as const) {
          await fs.writeFile(path.join(dir, `${name}.u8`), Buffer.concat(images.map((im) => Buffer.from(pick(im)))));
        }
        await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify({
          backbone: BACKBONE, adapter: { ...adapter, ...adapterSpec(o.adapter) }, head, steps: o.steps, batch: o.batch, lr: o.lr,
          images: images.map((im) => ({ id: im.id, width: im.width, height: im.height })), val,
        }));
      }
      const t0 = Date.now();
      trainFold(model, images, schedule, o);
      for (const k of val) ours.push({ foreground: predictImage(model, images[k]), reference: images[k].vessels, region: images[k].fov });
      console.log(`  tfjs: trained and predicted in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      if (o.reference) {
        const t1 = Date.now();
        const ref = await runReference(dir, images, val);
        if (typeof ref === 'string') referenceNote = ref;
        else {
          val.forEach((k, i) => theirs.push({ foreground: ref[i], reference: images[k].vessels, region: images[k].fov }));
          console.log(`  PyTorch reference: ${((Date.now() - t1) / 1000).toFixed(0)} s`);
        }
      }
    } finally {
      model.dispose();
      backbone.dispose();
      await fs.rm(dir, { recursive: true, force: true });
    }
  }
  console.log(`\nResults on ${ours.length} validation images (${o.folds} fold${o.folds > 1 ? 's' : ''}), inside the FOV, threshold 0.5; Dice: mean per image [95 % bootstrap CI]`);
  console.log(row(`MedTune tfjs (${o.adapter})`, binarySegmentationReport(ours)));
  if (theirs.length === ours.length) console.log(row(`PyTorch reference (${o.adapter})`, binarySegmentationReport(theirs)));
  else if (o.reference) console.log(`PyTorch reference: not available (${referenceNote})`);
  console.log(`${'published U-Net (DRIVE)'.padEnd(26)} Dice ${UNET_RANGE.dice}  AUC ${UNET_RANGE.auc}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
