/**
 * A training job as a user (UI, CLI) asks for it, validated once at the boundary. Everything not
 * given takes the defaults below, which suit a few hundred labels on a workstation CPU.
 */
import { z } from 'zod';
import { AUGMENTATIONS, CLASS_WEIGHTINGS, OPTIMIZERS, PREFIX_CACHE_MODES, TRAINING_DEFAULTS as D } from '../vocabulary';

export const adapterChoiceSchema = z.discriminatedUnion('method', [
  z.object({ method: z.literal('linear') }),
  z.object({
    method: z.literal('ept'),
    promptLength: z.number().int().positive().max(1000).default(100),
    layers: z.array(z.number().int().nonnegative()).optional(),
    /** Prompt only the last n blocks (layers depth−n..depth−1); the frozen blocks before them are cached. */
    lastLayers: z.number().int().positive().optional(),
  }),
  z.object({
    method: z.literal('dvpt'),
    bottleneck: z.number().int().positive().max(1024).default(64),
    numPrompts: z.number().int().positive().max(256).default(10),
    share: z.number().int().positive().default(3),
    /** First adapted block (0 = all blocks). */
    startLayer: z.number().int().nonnegative().optional(),
    /** Adapt only the last n blocks (startLayer = depth − n). */
    lastLayers: z.number().int().positive().optional(),
  }),
]);

export const trainJobSchema = z.object({
  taskId: z.number().int().positive(),
  backboneId: z.number().int().positive(),
  adapter: adapterChoiceSchema.default({ method: 'dvpt', bottleneck: 64, numPrompts: 10, share: 3 }),
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
  augmentation: z.enum(AUGMENTATIONS).default(D.augmentation),
  aspect: z.enum(['letterbox', 'crop']).default('letterbox'),
  fundusFov: z.boolean().default(false),
  seed: z.number().int().default(D.seed),
  /** 'auto': cache the frozen blocks before the adapter's first layer when nothing augments the images. */
  prefixCache: z.enum(PREFIX_CACHE_MODES).default(D.prefixCache),
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

export type AdapterChoice = z.output<typeof adapterChoiceSchema>;

/**
 * The adapter fields of a job for a backbone of `depth` blocks, with `lastLayers` turned into what
 * the adapter config stores (EPT `layers`, DVPT `startLayer`). A start of 0 is left out, so the
 * config equals one written before the option existed (warm starts compare configs).
 */
export function resolveAdapterChoice(choice: AdapterChoice, depth: number): Record<string, unknown> {
  const invalid = (message: string) => Object.assign(new Error(`invalid training job: adapter: ${message}`), { code: 'invalid-request' });
  if (choice.method === 'linear') return { ...choice };
  const { lastLayers, ...rest } = choice;
  if (lastLayers !== undefined && lastLayers > depth) throw invalid(`lastLayers ${lastLayers} exceeds the backbone's ${depth} blocks`);
  if (rest.method === 'ept') {
    if (lastLayers === undefined) return rest;
    if (rest.layers) throw invalid('give either layers or lastLayers, not both');
    return { ...rest, layers: Array.from({ length: lastLayers }, (_, i) => depth - lastLayers + i) };
  }
  if (lastLayers !== undefined && rest.startLayer !== undefined) throw invalid('give either startLayer or lastLayers, not both');
  const start = lastLayers !== undefined ? depth - lastLayers : (rest.startLayer ?? 0);
  if (start >= depth) throw invalid(`startLayer ${start} does not exist in a backbone of depth ${depth}`);
  const { startLayer: _s, ...withoutStart } = rest;
  return start > 0 ? { ...withoutStart, startLayer: start } : withoutStart;
}
