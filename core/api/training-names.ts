/** Training, version and active-learning channels and events (dependency-free, like names.ts). */
export const TRAINING_CHANNEL_NAMES = [
  'backbones.list',
  'backbones.import',
  'train.start',
  'train.cancel',
  'train.runs',
  'versions.list',
  'versions.promote',
  'versions.rollback',
  'versions.forecast',
  'versions.export',
  'predict.start',
  'suggest.run',
  'loop.status',
] as const;

export const TRAINING_EVENT_NAMES = ['train.progress', 'predict.progress', 'loop.state', 'worklist.changed'] as const;
