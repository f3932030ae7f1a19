import { z } from 'zod';
import { ADAPTER_METHODS, AUGMENTATIONS, DEFAULT_STRATEGY, PREFIX_CACHE_MODES, STRATEGY_NAMES, TRAINING_DEFAULTS } from '../vocabulary';

/** The training half of the contract: backbones, runs, versions, prediction and suggestions. */

const Id = z.number().int().positive();
const Empty = z.object({}).strict();
const Json = z.record(z.string(), z.unknown());

export const BackboneInfo = z.object({
  id: Id,
  name: z.string(),
  arch: z.string(),
  config: Json,
  weightsSha256: z.string().optional(),
  parameterCount: z.number().int().optional(),
  createdAt: z.string(),
});

export const RunInfo = z.object({
  id: Id,
  taskId: Id,
  status: z.enum(['queued', 'running', 'done', 'failed', 'cancelled']),
  method: z.string().optional(),
  backend: z.string().optional(),
  resultVersionId: Id.optional(),
  error: z.string().optional(),
  queuedAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  /** The run log (phases, epochs with loss and metric); only when asked for. */
  progress: z.array(Json).optional(),
});

export const VersionInfo = z.object({
  id: Id,
  taskId: Id,
  parentId: Id.optional(),
  backboneId: Id.optional(),
  method: z.string(),
  status: z.enum(['active', 'candidate', 'archived']),
  metrics: Json,
  labelSnapshot: Json,
  trainRunId: Id.optional(),
  sizeBytes: z.number().int().optional(),
  createdAt: z.string(),
});

const Gain = z.object({ extra: z.number().int(), value: z.number(), gain: z.number(), low: z.number(), high: z.number() });
export const VersionForecast = z.object({
  metric: z.string().nullable(),
  points: z.array(z.object({ versionId: Id, labels: z.number(), value: z.number() })),
  forecast: z
    .object({ labels: z.number(), level: z.number(), fit: z.object({ a: z.number(), b: z.number(), c: z.number(), rmse: z.number(), points: z.number().int() }), forecasts: z.array(Gain) })
    .nullable(),
  reason: z.string().optional(),
  /** The same in sentences, as the CLI prints them. */
  lines: z.array(z.string()),
});

export const RunEventSchema = z.object({
  runId: Id,
  taskId: Id,
  status: z.enum(['running', 'done', 'failed', 'cancelled']),
  phase: z.enum(['preparing', 'training', 'validating', 'saving', 'comparing', 'finished']),
  fraction: z.number(),
  epoch: z.number().optional(),
  epochs: z.number().optional(),
  step: z.number().optional(),
  totalSteps: z.number().optional(),
  loss: z.number().optional(),
  lr: z.number().optional(),
  metric: z.object({ name: z.string(), value: z.number().nullable() }).optional(),
  etaSeconds: z.number().optional(),
  message: z.string().optional(),
  versionId: Id.optional(),
  promoted: z.boolean().optional(),
  error: z.string().optional(),
});

export const PredictProgressEvent = z.object({
  taskId: Id,
  phase: z.enum(['preparing', 'predicting', 'saving', 'done', 'failed']),
  done: z.number().int(),
  total: z.number().int(),
  error: z.string().optional(),
});

const StrategyName = z.enum(STRATEGY_NAMES);

/** Where the learning loop of a task stands (core/app/learning-loop.ts). */
export const LoopStateSchema = z.object({
  taskId: Id,
  phase: z.enum(['idle', 'waiting', 'training', 'scoring', 'suggesting', 'off']),
  /** One sentence for the status line: what happens now, or what is needed before a run. */
  message: z.string(),
  /** The version whose suggestions the worklist shows (they stay usable while a newer one is scored). */
  suggestionsVersionId: Id.optional(),
  /** The version being scored, during 'scoring'. */
  versionId: Id.optional(),
  done: z.number().int().optional(),
  total: z.number().int().optional(),
  /** New label changes since the newest version, and how many start the next run. */
  newLabels: z.number().int().optional(),
  nextRunAt: z.number().int().optional(),
});

export const trainingContract = {
  'backbones.list': { request: Empty, response: z.array(BackboneInfo) },
  'backbones.import': {
    request: z.object({
      file: z.string().trim().min(1).max(4096),
      name: z.string().trim().min(1).max(200).optional(),
      normalization: z.enum(['imagenet', 'half']).default('imagenet'),
      imageSize: z.number().int().positive().max(1024).optional(),
    }),
    response: BackboneInfo.extend({ configSource: z.string(), assumptions: z.array(z.string()) }),
  },
  'train.start': {
    request: z.object({
      taskId: Id.optional(),
      backboneId: Id.optional(),
      method: z.enum(ADAPTER_METHODS).default(TRAINING_DEFAULTS.method),
      epochs: z.number().int().positive().max(1000).default(TRAINING_DEFAULTS.epochs),
      batchSize: z.number().int().positive().max(1024).default(TRAINING_DEFAULTS.batchSize),
      microBatchSize: z.number().int().positive().max(1024).optional(),
      lr: z.number().positive().max(1).default(TRAINING_DEFAULTS.lr),
      augmentation: z.enum(AUGMENTATIONS).default(TRAINING_DEFAULTS.augmentation),
      fresh: z.boolean().default(false),
      promptLength: z.number().int().positive().max(1000).optional(),
      bottleneck: z.number().int().positive().max(1024).optional(),
      numPrompts: z.number().int().positive().max(256).optional(),
      share: z.number().int().positive().optional(),
      /** EPT/DVPT: adapters only in the last n blocks (the job's adapter.lastLayers). */
      lastLayers: z.number().int().positive().optional(),
      /** 'auto': frozen blocks before the first adapted one run once per image when nothing augments. */
      prefixCache: z.enum(PREFIX_CACHE_MODES).default(TRAINING_DEFAULTS.prefixCache),
      /** Try learning rate × class weighting on the validation cases and keep the best (core/train/grid.ts). */
      grid: z.boolean().default(false),
      gridBudgetSeconds: z.number().positive().max(7 * 24 * 3600).default(TRAINING_DEFAULTS.gridBudgetSeconds),
    }),
    response: RunInfo,
  },
  'train.cancel': { request: z.object({ runId: Id }), response: z.object({ cancelled: z.boolean() }) },
  'train.runs': {
    request: z.object({ taskId: Id.optional(), withLog: z.boolean().default(false), limit: z.number().int().positive().max(1000).default(50) }),
    response: z.array(RunInfo),
  },
  'versions.list': { request: z.object({ taskId: Id.optional() }), response: z.array(VersionInfo) },
  'versions.promote': { request: z.object({ versionId: Id }), response: VersionInfo },
  'versions.rollback': { request: z.object({ taskId: Id.optional() }), response: VersionInfo },
  /** When to stop labelling: the gain the next 50, 100 and 500 labels are expected to bring (core/train/version-curve.ts). */
  'versions.forecast': { request: z.object({ taskId: Id.optional() }), response: VersionForecast },
  /** Writes `<dir>/medtune-<task>-v<id>/` (adapter_model.safetensors, adapter_config.json, medtune_version.json). */
  'versions.export': {
    request: z.object({ versionId: Id, dir: z.string().trim().min(1).max(4096) }),
    response: z.object({ dir: z.string(), files: z.array(z.object({ name: z.string(), bytes: z.number().int().nonnegative() })) }),
  },
  'predict.start': {
    request: z.object({ taskId: Id.optional(), scope: z.enum(['all', 'unlabeled']).default('all') }),
    response: z.object({ versionId: Id, predicted: z.number().int(), seconds: z.number() }),
  },
  'loop.status': { request: z.object({ taskId: Id.optional() }), response: LoopStateSchema },
  'suggest.run': {
    request: z.object({ taskId: Id.optional(), strategy: StrategyName.default(DEFAULT_STRATEGY), count: z.number().int().positive().max(1000).default(20) }),
    response: z.object({
      strategy: StrategyName,
      versionId: Id.optional(),
      pool: z.number().int(),
      unpredicted: z.number().int(),
      /** Mixed: where its validation-influence share came from, or why it had none. */
      influence: z.string().optional(),
      suggested: z.array(z.object({ caseId: Id, rank: z.number().int(), score: z.number(), reason: z.string() })),
    }),
  },
};

export const trainingEvents = {
  'train.progress': RunEventSchema,
  'predict.progress': PredictProgressEvent,
  'loop.state': LoopStateSchema,
  /** Predictions or suggestions of a task changed: worklist rows, the viewer's model line and ranks refresh. */
  'worklist.changed': z.object({ taskId: Id, versionId: Id.optional(), reason: z.enum(['predictions', 'suggestions', 'labels', 'splits']) }),
};

export type BackboneInfoT = z.output<typeof BackboneInfo>;
export type RunInfoT = z.output<typeof RunInfo>;
export type VersionInfoT = z.output<typeof VersionInfo>;
export type RunEventT = z.output<typeof RunEventSchema>;
export type LoopStateT = z.output<typeof LoopStateSchema>;
