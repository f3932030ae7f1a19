/**
 * MedTune's vocabulary, declared once: task kinds, case filters and sorts, acquisition strategies,
 * adapter methods and the training defaults. Dependency-free, so every layer (store, model, train,
 * api, cli) and the renderer derive their enums, menus and help texts from these lists.
 */

/** What a label task asks. Classification kinds train a head; segmentation paints masks. */
export const TASK_KINDS = ['multiclass', 'ordinal', 'multilabel', 'segmentation'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

/** The task kinds a classification head is trained for (softmax CE, or sigmoid BCE for multilabel). */
export const CLASSIFICATION_KINDS = ['multiclass', 'ordinal', 'multilabel'] as const;
export type ClassificationKind = (typeof CLASSIFICATION_KINDS)[number];

export const TASK_KIND_TITLES: Readonly<Record<TaskKind, string>> = {
  multiclass: 'One class per case',
  ordinal: 'Ordered grade',
  multilabel: 'Several classes per case',
  segmentation: 'Segmentation (masks)',
};

/** Where a segmentation mask came from: painted, a model's prediction accepted as is or after editing, or imported from a file. */
export const MASK_SOURCES = ['human', 'accepted-prediction', 'edited-prediction', 'import'] as const;
export type MaskSource = (typeof MASK_SOURCES)[number];

/** Where a labelled case serves: training, validation (model selection, version comparison) or held-out test. */
export const SPLITS = ['train', 'val', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** Worklist filters. */
export const CASE_FILTERS = [
  'all', 'unlabeled', 'labeled', 'suggested', 'disagree', 'flagged', 'skipped', 'quarantined', 'awaiting-my-read', 'readers-disagree',
] as const;
export type CaseFilter = (typeof CASE_FILTERS)[number];

export const CASE_FILTER_TITLES: Readonly<Record<CaseFilter, string>> = {
  all: 'All',
  unlabeled: 'Unlabeled',
  labeled: 'Labeled',
  suggested: 'Suggested',
  disagree: 'Disagrees',
  flagged: 'Flagged',
  skipped: 'Skipped',
  quarantined: 'Quarantine',
  'awaiting-my-read': 'Awaiting my read',
  'readers-disagree': 'Readers disagree',
};

/** Reader profiles' roles: a reviewer also settles disagreements; an admin also manages profiles. */
export const READER_ROLES = ['reader', 'reviewer', 'admin'] as const;
export type ReaderRole = (typeof READER_ROLES)[number];

/**
 * A case's state in a task read k > 1 times (docs/readers.md): unread → read (fewer than k reads) →
 * agreed or in disagreement → adjudicated, accepted or rejected by a reviewer.
 */
export const CASE_STATES = ['unread', 'read', 'agreed', 'disagreement', 'adjudicated', 'accepted', 'rejected'] as const;
export type CaseState = (typeof CASE_STATES)[number];

/** What training takes from a task read k > 1 times: unanimous or reviewer-settled, the majority, or all reads (soft). */
export const TRAINING_LABEL_MODES = ['reviewer', 'majority', 'soft'] as const;
export type TrainingLabelMode = (typeof TRAINING_LABEL_MODES)[number];

/** Worklist orders. */
export const CASE_SORTS = ['imported', 'rank', 'uncertainty'] as const;
export type CaseSort = (typeof CASE_SORTS)[number];

export const CASE_SORT_TITLES: Readonly<Record<CaseSort, string>> = { imported: 'Import order', rank: 'Suggestion rank', uncertainty: 'Uncertainty' };

/** Acquisition strategies (formulas: docs/active-learning.md). */
export const STRATEGY_NAMES = ['random', 'least-confidence', 'margin', 'entropy', 'bald', 'kcenter', 'hybrid', 'typiclust', 'auto', 'mixed'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];
/** Measured by `npm run eval:al` (docs/active-learning.md): at or above random at every budget averaged over three MedMNIST sets; at the loop's rhythm 47 % of random's labels on PneumoniaMNIST, 69 % on RetinaMNIST. */
export const DEFAULT_STRATEGY: StrategyName = 'mixed';

export const STRATEGY_TITLES: Readonly<Record<StrategyName, string>> = {
  mixed: 'mixed (random and uncertain)',
  auto: 'auto (typical first, then uncertain)',
  typiclust: 'TypiClust (typical, uncovered)',
  hybrid: 'hybrid (uncertain, then diverse)',
  entropy: 'entropy',
  margin: 'margin',
  'least-confidence': 'least confidence',
  bald: 'BALD (MC dropout)',
  kcenter: 'k-center core-set',
  random: 'random',
};

/** Parameter-efficient adapter methods; each has a plug-in folder under core/model/adapters/. */
export const ADAPTER_METHODS = ['linear', 'ept', 'dvpt', 'lora'] as const;
export type AdapterMethod = (typeof ADAPTER_METHODS)[number];
export const DEFAULT_ADAPTER_METHOD: AdapterMethod = 'dvpt';

export const ADAPTER_METHOD_TITLES: Readonly<Record<AdapterMethod, string>> = {
  dvpt: 'DVPT (default)',
  ept: 'EPT',
  linear: 'Linear probe',
  lora: 'LoRA (baseline)',
};

export const OPTIMIZERS = ['adamw', 'sgd'] as const;
export const CLASS_WEIGHTINGS = ['none', 'inverse', 'effective'] as const;
export type ClassWeighting = (typeof CLASS_WEIGHTINGS)[number];
export const AUGMENTATIONS = ['none', 'fundus', 'radiograph', 'ct-mr'] as const;
export type AugmentationName = (typeof AUGMENTATIONS)[number];
export const AUGMENTATION_TITLES: Readonly<Record<AugmentationName, string>> = { none: 'none', fundus: 'fundus', radiograph: 'radiograph', 'ct-mr': 'CT / MR' };
export const PREFIX_CACHE_MODES = ['auto', 'off'] as const;

/** Training defaults: suit a few hundred labels on a workstation CPU. */
export const TRAINING_DEFAULTS = {
  method: DEFAULT_ADAPTER_METHOD,
  epochs: 20,
  batchSize: 16,
  lr: 1e-3,
  minLr: 1e-5,
  warmupFraction: 0.1,
  optimizer: 'adamw' as (typeof OPTIMIZERS)[number],
  weightDecay: 1e-4,
  patience: 5,
  classWeighting: 'inverse' as ClassWeighting,
  augmentation: 'none' as AugmentationName,
  seed: 0,
  prefixCache: 'auto' as (typeof PREFIX_CACHE_MODES)[number],
  /** A grid run (job.grid) starts no further setting once this would be overrun. */
  gridBudgetSeconds: 900,
} as const;

/** Learning rates a grid run (core/train/grid.ts) tries around the job's own: a factor of 3 either side. */
export const GRID_LR_FACTORS = [1, 1 / 3, 3] as const;

/**
 * The learning loop's defaults, per task (task settings override them): the first run starts once
 * `firstRunAt` cases are labelled in at least two classes; later runs after max(minEvery,
 * fraction × labelled) new label changes, so a run keeps pace with a growing task without running
 * after every few labels; each round scores at most `maxScoredPerRound` unlabelled cases.
 */
export const LOOP_DEFAULTS = {
  enabled: true,
  firstRunAt: 20,
  minEvery: 10,
  fraction: 0.1,
  maxScoredPerRound: 2000,
  suggestCount: 20,
  strategy: DEFAULT_STRATEGY,
} as const;

/** `[a, b, …]` typed for z.enum / commander choices. */
export type NonEmpty<T> = readonly [T, ...T[]];

/** Viewer measurements: a length, an angle, and ellipse / rectangle regions of interest with statistics. */
export const MEASUREMENT_KINDS = ['length', 'angle', 'ellipse', 'rectangle'] as const;
export type MeasurementKind = (typeof MEASUREMENT_KINDS)[number];

/** What one worklist row of a task is (core/store/scope.ts). */
export const CASE_UNITS = ['image', 'series', 'study'] as const;
export type CaseUnit = (typeof CASE_UNITS)[number];
export const CASE_UNIT_TITLES: Readonly<Record<CaseUnit, string>> = {
  image: 'Image (photo, radiograph)',
  series: 'Series (CT/MR stack: its middle slice)',
  study: 'Study (its middle image)',
};

/** A case's side as a task scope selects it; 'unknown' when neither DICOM nor the file name states it. */
export const LATERALITIES = ['left', 'right', 'both', 'unknown'] as const;
export type Laterality = (typeof LATERALITIES)[number];
