/** Reading channels: series stacks, the grouped worklist and hanging partners (dependency-free, like names.ts). */
export const READING_CHANNEL_NAMES = ['series.stack', 'worklist.groups', 'cases.hanging'] as const;
