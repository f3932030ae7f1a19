/** Segmentation mask channels (dependency-free, like names.ts). */
export const MASK_CHANNEL_NAMES = ['masks.get', 'masks.save', 'masks.accept', 'masks.history', 'masks.import', 'masks.export', 'masks.importFiles', 'masks.exportAll'] as const;
