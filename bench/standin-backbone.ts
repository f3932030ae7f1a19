/**
 * The stand-in foundation model of the MedMNIST evaluations: a small ViT trained from scratch on one
 * MedMNIST set (no pretrained weights can be downloaded here), then frozen. Shared by eval:medmnist
 * and eval:al.
 */
import { HALF_NORMALIZATION } from '../core/imaging/model-input';
import { parseAdapterConfig } from '../core/model/adapter-config';
import type { ViTConfig } from '../core/model/config';
import { AdaptedViT } from '../core/model/model';
import { ViTBackbone } from '../core/model/vit';
import type { AugmentationConfig } from '../core/train/augment';
import type { MedMnistSplit } from '../core/train/medmnist';
import { predictSamples } from '../core/train/evaluation';
import { DEFAULT_TRAIN_CONFIG, trainAdapter, type Sample, type TrainConfig, type TrainResult } from '../core/train/trainer';

export const STANDIN_BACKBONE: ViTConfig = {
  architecture: 'vit',
  imageSize: 28,
  // 7×7 patches: 17 tokens keep a from-scratch ViT trainable on a CPU in minutes.
  patchSize: 7,
  embedDim: 64,
  depth: 4,
  numHeads: 4,
  mlpRatio: 4,
  qkvBias: true,
  layerNormEps: 1e-6,
  gelu: 'erf',
  classToken: true,
  pool: 'token',
  finalNorm: true,
} as ViTConfig;

/** MedMNIST split → 28×28 RGB samples (grey images repeated over the three channels). */
export function medmnistSamples(split: MedMnistSplit): Sample[] {
  const { n, height: h, width: w, channels: c } = split;
  const out: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const input = new Uint8Array(h * w * 3);
    for (let p = 0; p < h * w; p++)
      for (let k = 0; k < 3; k++) input[p * 3 + k] = split.images[(i * h * w + p) * c + (c === 1 ? 0 : k)];
    out.push({ input, label: split.labels[i * split.labelsPerCase] });
  }
  return out;
}

export interface PretrainOptions {
  numClasses: number;
  epochs: number;
  seed: number;
  augmentation: AugmentationConfig | null;
  /** Another geometry of the stand-in (eval:drive needs a power-of-two patch); default STANDIN_BACKBONE. */
  config?: ViTConfig;
  onEpoch?: (epoch: number, epochs: number, loss: number, selection: number) => void;
}

/** Trains the stand-in backbone with a linear head on `train` (selected on `val`) and returns it frozen. */
export async function pretrainStandIn(train: Sample[], val: Sample[], options: PretrainOptions): Promise<{ backbone: ViTBackbone; result: TrainResult }> {
  const arch = options.config ?? STANDIN_BACKBONE;
  const backbone = ViTBackbone.createTrainable(arch, options.seed);
  const model = AdaptedViT.initialise(backbone, parseAdapterConfig({ method: 'linear', numClasses: options.numClasses, task: 'multiclass' }, 'pretrain'), options.seed);
  const config: TrainConfig = {
    ...DEFAULT_TRAIN_CONFIG,
    epochs: options.epochs,
    batchSize: 64,
    lr: 2e-3,
    weightDecay: 0.05,
    patience: 0,
    classWeighting: 'inverse',
    augmentation: options.augmentation,
    seed: options.seed,
  };
  const result = await trainAdapter(model, train, val, config, {
    task: 'multiclass',
    numClasses: options.numClasses,
    size: arch.imageSize,
    normalization: HALF_NORMALIZATION,
    extraVariables: backbone.trainableVariables(),
    onProgress: (p) => {
      if (p.phase === 'validating') options.onEpoch?.(p.epoch, p.epochs, p.loss ?? NaN, p.metrics?.selection.value ?? NaN);
    },
  });
  const frozen = new ViTBackbone(arch, backbone.exportWeights());
  model.dispose();
  backbone.dispose();
  return { backbone: frozen, result };
}

/** Frozen pre-logits features [n×D] (the CLS token after the final norm) of the samples. */
export async function embedSamples(backbone: ViTBackbone, samples: Sample[]): Promise<Float32Array> {
  const model = AdaptedViT.initialise(backbone, parseAdapterConfig({ method: 'linear', numClasses: 2, task: 'multiclass' }, 'embed'), 0);
  try {
    const out = await predictSamples(model, samples.map((s) => s.input), { task: 'multiclass', size: 28, normalization: HALF_NORMALIZATION });
    return out.features;
  } finally {
    model.dispose();
  }
}
