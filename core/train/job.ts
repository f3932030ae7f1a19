/**
 * A training job as a user (UI, CLI) asks for it, validated once at the boundary. Everything not
 * given takes the defaults below, which suit a few hundred labels on a workstation CPU.
 */
import { z } from 'zod';
import { INTENSITY_MODES } from '../imaging/model-input';
import { AdapterConfigError } from '../model/adapter-config';
import { adapterChoiceSchema as registryChoiceSchema, adapterPlugin, type AdapterChoice } from '../model/adapters/registry';
import { AUGMENTATIONS, CLASS_WEIGHTINGS, OPTIMIZERS, PREFIX_CACHE_MODES, TRAINING_DEFAULTS as D } from '../vocabulary';

/** A job's adapter: `method` plus that method's options (each plug-in's jobSchema, core/model/adapters). */
export const adapterChoiceSchema = registryChoiceSchema;

export const trainJobSchema = z.object({
  taskId: z.number().int().positive(),
  backboneId: z.number().int().positive(),
  adapter: adapterChoiceSchema.default(() => adapterChoiceSchema.parse({ method: D.method })),
  /** 'active': continue from the task's active version when it has the same method and shape. */
  warmStart: z.union([z.literal('active'), z.literal('none'), z.number().int().positive()]).default('active'),
  epochs: z.number().int().positive().max(1000).default(D.epochs),
  batchSize: z.number().int().positive().max(1024).default(D.batchSize),
  microBatchSize: z.number().int().positive().max(1024).optional(),
  lr: z.number().positive().max(1).default(D.lr),
  weightDecay: z.number().nonnegative().max(1).default(D.weightDecay),
  optimizer: z.enum(OPTIMIZERS).default(D.optimizer),
  patience: z.number().int().nonnegative().default(D.patience),
  classWeighting: z.enum(CLASS_WEIGHTINGS).default(D.classWeighting),
  /** Method 'linear': 'probe' fits the head by logistic regression on frozen features (C chosen on val); 'gradient' trains it by epochs. */
  linearSolver: z.enum(['probe', 'gradient']).default('probe'),
  /** Epochs that always run before patience counts; default: warm-up plus a quarter of the epochs. */
  minEpochs: z.number().int().nonnegative().optional(),
  augmentation: z.enum(AUGMENTATIONS).default(D.augmentation),
  aspect: z.enum(['letterbox', 'crop']).default('letterbox'),
  fundusFov: z.boolean().default(false),
  /** Grey values before the model: 'auto' = raw 8-bit for photos/PNGs, the VOI window for DICOM; 'stretch' = per-image min–max. */
  intensity: z.enum(INTENSITY_MODES).default('auto'),
  seed: z.number().int().default(D.seed),
  /** 'auto': cache the frozen blocks before the adapter's first layer when nothing augments the images. */
  prefixCache: z.enum(PREFIX_CACHE_MODES).default(D.prefixCache),
  /**
   * Try a small grid on the validation cases (learning rate ×⅓, ×1, ×3 × the class weighting and its
   * opposite; the probe: the weighting only) and keep the best; settings that would overrun
   * `gridBudgetSeconds` are not started (the job's own always runs).
   */
  grid: z.boolean().default(false),
  gridBudgetSeconds: z.number().positive().max(7 * 24 * 3600).default(D.gridBudgetSeconds),
  /** Promote the new version when it beats the active one on the validation cases (default), or never. */
  promote: z.enum(['if-better', 'never', 'always']).default('if-better'),
});

export type TrainJob = z.output<typeof trainJobSchema>;
export type TrainJobInput = z.input<typeof trainJobSchema>;

export function parseTrainJob(input: unknown): TrainJob {
  const parsed = trainJobSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw Object.assign(new Error(`invalid training job: ${issue.path.join('.') || '(root)'}: ${issue.message}`), { code: 'invalid-request' });
  }
  return parsed.data;
}

export type { AdapterChoice };

/**
 * The adapter fields of a job for a backbone of `depth` blocks, with `lastLayers` turned into what
 * the adapter config stores (EPT `layers`, DVPT `startLayer`). A start of 0 is left out, so the
 * config equals one written before the option existed (warm starts compare configs).
 */
export function resolveAdapterChoice(choice: AdapterChoice, depth: number): Record<string, unknown> {
  try {
    return adapterPlugin(choice.method).resolveChoice(choice, depth);
  } catch (err) {
    if (!(err instanceof AdapterConfigError)) throw err;
    throw Object.assign(new Error(`invalid training job: adapter: ${err.message}`), { code: 'invalid-request' });
  }
}
