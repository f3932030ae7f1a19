import { inflateSync } from 'node:zlib';
import type { Database } from 'better-sqlite3';

/**
 * Masks of a segmentation task read by several readers (docs/readers.md): each reader's own latest mask
 * per frame (mask_events by author), the per-pixel majority vote of k readers' masks, and the Dice
 * counts agreement is computed from. current_masks keeps "the latest save of anyone"; on a k-read task
 * that is a reader's draft until the consensus is written, so readers' masks are read by author here.
 */

/** One reader's masks of one case: frame → class id per pixel (row-major). */
export type FrameMasks = Map<number, Uint8Array>;

interface MaskRow {
  case_id: number;
  frame: number;
  author: string;
  rows: number;
  columns: number;
  data: Buffer;
}

/**
 * Each author's latest mask per (case, frame) of a task, optionally only of one case and only of the given
 * authors: author → case → frame → pixels.
 */
export function masksByAuthor(db: Database, taskId: number, opts: { caseId?: number; authors?: string[] } = {}): Map<string, Map<number, FrameMasks>> {
  const rows = db
    .prepare(
      `SELECT e.case_id, e.frame, e.author, e.rows, e.columns, e.data FROM mask_events e
       WHERE e.task_id = @task AND (@caseId IS NULL OR e.case_id = @caseId)
         AND e.id = (SELECT max(l.id) FROM mask_events l WHERE l.task_id = e.task_id AND l.case_id = e.case_id AND l.frame = e.frame AND l.author = e.author)
       ORDER BY e.case_id, e.frame`,
    )
    .all({ task: taskId, caseId: opts.caseId ?? null }) as MaskRow[];
  const wanted = opts.authors ? new Set(opts.authors) : undefined;
  const out = new Map<string, Map<number, FrameMasks>>();
  for (const r of rows) {
    if (wanted && !wanted.has(r.author)) continue;
    const raw = inflateSync(r.data);
    if (!out.has(r.author)) out.set(r.author, new Map());
    const byCase = out.get(r.author)!;
    if (!byCase.has(r.case_id)) byCase.set(r.case_id, new Map());
    byCase.get(r.case_id)!.set(r.frame, new Uint8Array(raw.buffer, raw.byteOffset, raw.length));
  }
  return out;
}

/** An adapter version's predicted masks (of one case, or all): case → frame → pixels. */
export function predictedMasks(db: Database, versionId: number, caseId?: number): Map<number, FrameMasks> {
  const out = new Map<number, FrameMasks>();
  const rows = db
    .prepare('SELECT case_id, frame, data FROM predicted_masks WHERE version_id = ? AND (? IS NULL OR case_id = ?)')
    .all(versionId, caseId ?? null, caseId ?? null) as Omit<MaskRow, 'author'>[];
  for (const r of rows) {
    const raw = inflateSync(r.data);
    if (!out.has(r.case_id)) out.set(r.case_id, new Map());
    out.get(r.case_id)!.set(r.frame, new Uint8Array(raw.buffer, raw.byteOffset, raw.length));
  }
  return out;
}

/**
 * The per-pixel majority of k masks of one frame: the class more than half of them give the pixel, else
 * background (so two readers' consensus is where they agree; three readers', where two of them do).
 */
export function majorityMask(planes: Uint8Array[], classes: number): Uint8Array {
  const out = new Uint8Array(planes[0].length);
  const votes = new Uint16Array(classes + 1);
  for (let i = 0; i < out.length; i++) {
    votes.fill(0);
    for (const p of planes) votes[p[i]]++;
    for (let c = 1; c <= classes; c++) {
      if (votes[c] * 2 > planes.length) {
        out[i] = c;
        break;
      }
    }
  }
  return out;
}

/**
 * Dice counts of two raters' masks of one case, per class 1…K: [intersection, |A|, |B|] summed over the
 * frames either painted (a frame one of them left unpainted is empty for them).
 */
export function diceCounts(a: FrameMasks, b: FrameMasks, classes: number): Float64Array {
  const counts = new Float64Array(3 * classes);
  for (const frame of new Set([...a.keys(), ...b.keys()])) {
    const pa = a.get(frame);
    const pb = b.get(frame);
    const n = (pa ?? pb)!.length;
    for (let i = 0; i < n; i++) {
      const ca = pa && pa.length === n ? pa[i] : 0;
      const cb = pb && pb.length === n ? pb[i] : 0;
      if (ca) counts[3 * (ca - 1) + 1]++;
      if (cb) counts[3 * (cb - 1) + 2]++;
      if (ca && ca === cb) counts[3 * (ca - 1)]++;
    }
  }
  return counts;
}

/** Dice of class c (0-based) from diceCounts; NaN when neither rater painted the class. */
export function diceOf(counts: ArrayLike<number>, c: number): number {
  const sizes = counts[3 * c + 1] + counts[3 * c + 2];
  return sizes === 0 ? NaN : (2 * counts[3 * c]) / sizes;
}

/** Mean Dice over the classes either rater painted; NaN when both masks are empty. */
export function meanDiceOf(counts: ArrayLike<number>, classes: number): number {
  let sum = 0;
  let n = 0;
  for (let c = 0; c < classes; c++) {
    const d = diceOf(counts, c);
    if (!Number.isNaN(d)) {
      sum += d;
      n++;
    }
  }
  return n === 0 ? NaN : sum / n;
}
