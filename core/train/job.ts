/**
 * A training job as a user (UI, CLI) asks for it, validated once at the boundary. Everything not
 * given takes the defaults below, which suit a few hundred labels on a workstation CPU.
 */
import { z } from 'zod';
import { AUGMENTATION_PRESETS } from './augment';

export const adapterChoiceSchema = z.discriminatedUnion('method', [
  z.object({ method: z.literal('linear') }),
  z.object({
    method: z.literal('ept'),
    promptLength: z.number().int().positive().max(1000).default(100),
    layers: z.array(z.number().int().nonnegative()).optional(),
  }),
  z.object({
    method: z.literal('dvpt'),
    bottleneck: z.number().int().positive().max(1024).default(64),
    numPrompts: z.number().int().positive().max(256).default(10),
    share: z.number().int().positive().default(3),
  }),
]);

export const trainJobSchema = z.object({
  taskId: z.number().int().positive(),
  backboneId: z.number().int().positive(),
  adapter: adapterChoiceSchema.default({ method: 'dvpt', bottleneck: 64, numPrompts: 10, share: 3 }),
  /** 'active': continue from the task's active version when it has the same method and shape. */
  warmStart: z.union([z.literal('active'), z.literal('none'), z.number().int().positive()]).default('active'),
  epochs: z.number().int().positive().max(1000).default(20),
  batchSize: z.number().int().positive().max(1024).default(16),
  microBatchSize: z.number().int().positive().max(1024).optional(),
  lr: z.number().positive().max(1).default(1e-3),
  weightDecay: z.number().nonnegative().max(1).default(1e-4),
  optimizer: z.enum(['adamw', 'sgd']).default('adamw'),
  patience: z.number().int().nonnegative().default(5),
  classWeighting: z.enum(['none', 'inverse', 'effective']).default('inverse'),
  augmentation: z.enum(Object.keys(AUGMENTATION_PRESETS) as [keyof typeof AUGMENTATION_PRESETS, ...(keyof typeof AUGMENTATION_PRESETS)[]]).default('none'),
  aspect: z.enum(['letterbox', 'crop']).default('letterbox'),
  fundusFov: z.boolean().default(false),
  seed: z.number().int().default(0),
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
