/** Skip and flag-for-review now live in the workspace (core/store/review-marks.ts); this keeps the app layer's name for the type. */
export type { ReviewMark } from '../store';
