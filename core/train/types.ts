/** Types shared by the trainer, its replicas and the workspace runs (kept here so none of them imports another for a type). */
import type { ClassificationKind } from '../vocabulary';

/** The task kinds a head is trained for. */
export type TrainTaskKind = ClassificationKind;

export interface Sample {
  /** Cached model input, Uint8 [S, S, 3]. */
  input: Uint8Array;
  /** Class id (multiclass/ordinal) or 0/1 per class (multilabel). */
  label: number | number[];
}
