import { deflateSync, inflateSync } from 'node:zlib';
import type { Database } from 'better-sqlite3';
import { MASK_SOURCES, type MaskSource } from '../vocabulary';
import { sha256Hex } from './blobs';
import { WorkspaceError } from './errors';
import { LabelService, type LabelSource } from './labels';
import { outOfScopeReason } from './scope';
import { readingSettings, TaskService } from './tasks';

export { MASK_SOURCES, type MaskSource } from '../vocabulary';

/** Where a mask lies: one frame of one case, for one segmentation task. */
export interface MaskTarget {
  taskId: number;
  caseId: number;
  frame: number;
}

/** One saved state of a mask (without its pixels). */
export interface MaskEvent extends MaskTarget {
  id: number;
  rows: number;
  columns: number;
  /** SHA-256 of the uncompressed label plane: equal masks have equal hashes. */
  sha256: string;
  /** Pixels that are not background. */
  foreground: number;
  /** Bytes stored (deflated). */
  storedBytes: number;
  author: string;
  source: MaskSource;
  /** The adapter version whose prediction was accepted or edited. */
  adapterVersionId?: number;
  createdAt: string;
}

/** A mask event with its pixels: one class id per pixel, row-major (0 = background, i = the task's class i). */
export interface StoredMask extends MaskEvent {
  labels: Uint8Array;
}

export interface SaveMask extends MaskTarget {
  rows: number;
  columns: number;
  labels: Uint8Array;
  author: string;
  source?: MaskSource;
  adapterVersionId?: number;
}

/** An adapter version's predicted mask of one frame. */
export interface PredictedMask {
  versionId: number;
  caseId: number;
  frame: number;
  rows: number;
  columns: number;
  labels: Uint8Array;
  foreground: number;
  /** Mean pixel entropy over the predicted foreground and its border (nats). */
  uncertainty: number;
  createdAt: string;
}

interface Row {
  id: number;
  task_id: number;
  case_id: number;
  frame: number;
  rows: number;
  columns: number;
  encoding: string;
  data?: Buffer;
  stored_bytes: number;
  sha256: string;
  foreground: number;
  author: string;
  source: MaskSource;
  adapter_version_id: number | null;
  created_at: string;
}

const EVENT_COLUMNS = `id, task_id, case_id, frame, rows, columns, encoding, length(data) AS stored_bytes, sha256, foreground, author, source,
  adapter_version_id, created_at`;

/**
 * Segmentation masks as an append-only event log per (task, case, frame), like labels: every save stores
 * the whole mask (deflated; a vessel map of 565×584 pixels takes a few kB), so any past state can be
 * shown or restored without replaying strokes. The current mask is the `current_masks` view.
 */
export class MaskService {
  private readonly tasks: TaskService;

  private readonly labels: LabelService;

  constructor(private readonly db: Database) {
    this.tasks = new TaskService(db);
    this.labels = new LabelService(db);
  }

  /** Appends a mask event and makes it the frame's current mask. */
  save(input: SaveMask): MaskEvent {
    return this.db.transaction(() => this.saveOne(input))();
  }

  /** Saves many masks in one transaction (an import): all are written or none. */
  saveMany(inputs: SaveMask[]): MaskEvent[] {
    return this.db.transaction(() => inputs.map((m) => this.saveOne(m)))();
  }

  /** The frame's current mask with its pixels; undefined when none was ever saved. */
  current(target: MaskTarget): StoredMask | undefined {
    const row = this.db
      .prepare(
        `SELECT e.*, length(e.data) AS stored_bytes FROM current_masks c JOIN mask_events e ON e.id = c.event_id
         WHERE c.task_id = ? AND c.case_id = ? AND c.frame = ?`,
      )
      .get(target.taskId, target.caseId, target.frame) as Row | undefined;
    return row ? withPixels(row) : undefined;
  }

  /** One author's latest mask of a frame (a reader's own mask on a task read k > 1 times); undefined when they saved none. */
  latestBy(target: MaskTarget, author: string): StoredMask | undefined {
    const row = this.db
      .prepare('SELECT *, length(data) AS stored_bytes FROM mask_events WHERE task_id = ? AND case_id = ? AND frame = ? AND author = ? ORDER BY id DESC LIMIT 1')
      .get(target.taskId, target.caseId, target.frame, author) as Row | undefined;
    return row ? withPixels(row) : undefined;
  }

  /** One event with its pixels (a past state, e.g. to show or restore it). */
  event(id: number): StoredMask {
    const row = this.db.prepare('SELECT *, length(data) AS stored_bytes FROM mask_events WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new WorkspaceError('not-found', `No mask event with id ${id}`);
    return withPixels(row);
  }

  /** Every mask event of a case for a task (all frames, or one), oldest first. */
  history(taskId: number, caseId: number, frame?: number): MaskEvent[] {
    const rows = this.db
      .prepare(
        `SELECT ${EVENT_COLUMNS} FROM mask_events WHERE task_id = ? AND case_id = ? AND (? IS NULL OR frame = ?) ORDER BY id`,
      )
      .all(taskId, caseId, frame ?? null, frame ?? null) as Row[];
    return rows.map(toEvent);
  }

  /**
   * The current masks of a task (no pixels), by case and frame: what training and export read. On a task
   * read k > 1 times only settled cases (with a consensus or reviewer's label) count: elsewhere the latest
   * save is a reader's unsettled mask.
   */
  currentAll(taskId: number): MaskEvent[] {
    const settled = readingSettings(this.tasks.get(taskId)).readsPerCase > 1;
    const rows = this.db
      .prepare(
        `SELECT e.id, e.task_id, e.case_id, e.frame, e.rows, e.columns, e.encoding, length(e.data) AS stored_bytes, e.sha256, e.foreground,
           e.author, e.source, e.adapter_version_id, e.created_at
         FROM current_masks c JOIN mask_events e ON e.id = c.event_id
         WHERE c.task_id = ? AND c.case_id NOT IN (SELECT case_id FROM quarantine WHERE case_id IS NOT NULL)
           AND (? = 0 OR c.case_id IN (SELECT case_id FROM current_labels WHERE task_id = c.task_id))
         ORDER BY c.case_id, c.frame`,
      )
      .all(taskId, settled ? 1 : 0) as Row[];
    return rows.map(toEvent);
  }

  /** Stores (or replaces) predicted masks of one adapter version, in one transaction. */
  putPredictions(versionId: number, items: Omit<PredictedMask, 'versionId' | 'foreground' | 'createdAt'>[]): void {
    const put = this.db.prepare(
      `INSERT OR REPLACE INTO predicted_masks (version_id, case_id, frame, rows, columns, encoding, data, foreground, uncertainty, created_at)
       VALUES (?, ?, ?, ?, ?, 'deflate-u8', ?, ?, ?, ?)`,
    );
    const now = new Date().toISOString();
    this.db.transaction(() => {
      for (const p of items) {
        if (p.labels.length !== p.rows * p.columns) throw new WorkspaceError('invalid', `A ${p.columns}×${p.rows} predicted mask has ${p.labels.length} pixels`);
        let foreground = 0;
        for (const v of p.labels) if (v) foreground++;
        const plane = Buffer.from(p.labels.buffer, p.labels.byteOffset, p.labels.byteLength);
        put.run(versionId, p.caseId, p.frame, p.rows, p.columns, deflateSync(plane), foreground, Number.isFinite(p.uncertainty) ? p.uncertainty : 0, now);
      }
    })();
  }

  /** A version's predicted mask of one frame, undefined when it has not predicted it. */
  prediction(versionId: number, caseId: number, frame: number): PredictedMask | undefined {
    const r = this.db.prepare('SELECT * FROM predicted_masks WHERE version_id = ? AND case_id = ? AND frame = ?').get(versionId, caseId, frame) as
      | { rows: number; columns: number; data: Buffer; foreground: number; uncertainty: number; created_at: string }
      | undefined;
    if (!r) return undefined;
    const raw = inflateSync(r.data);
    return {
      versionId,
      caseId,
      frame,
      rows: r.rows,
      columns: r.columns,
      labels: new Uint8Array(raw.buffer, raw.byteOffset, raw.length),
      foreground: r.foreground,
      uncertainty: r.uncertainty,
      createdAt: r.created_at,
    };
  }

  private saveOne(m: SaveMask): MaskEvent {
    const task = this.tasks.get(m.taskId);
    if (task.kind !== 'segmentation') throw new WorkspaceError('invalid', `Task '${task.name}' is a ${task.kind} task; only segmentation tasks take masks`);
    if (!m.author?.trim()) throw new WorkspaceError('invalid', 'A mask needs an author');
    const kase = this.db.prepare('SELECT frame_count, rows, columns, display_name FROM cases WHERE id = ?').get(m.caseId) as
      | { frame_count: number; rows: number | null; columns: number | null; display_name: string }
      | undefined;
    if (!kase) throw new WorkspaceError('not-found', `No case with id ${m.caseId}`);
    const quarantined = this.db
      .prepare('SELECT source_path AS file, reason FROM quarantine WHERE case_id = ? ORDER BY id DESC LIMIT 1')
      .get(m.caseId) as { file: string; reason: string } | undefined;
    if (quarantined) throw new WorkspaceError('invalid', `Case ${m.caseId} (${quarantined.file}) is quarantined and takes no mask: ${quarantined.reason}`);
    const outside = outOfScopeReason(this.db, task, m.caseId);
    if (outside) throw new WorkspaceError('invalid', outside);
    if (!Number.isInteger(m.frame) || m.frame < 0 || m.frame >= kase.frame_count) {
      throw new WorkspaceError('invalid', `Case ${m.caseId} (${kase.display_name}) has ${kase.frame_count} frame(s), not frame ${m.frame + 1}`);
    }
    if (!Number.isInteger(m.rows) || !Number.isInteger(m.columns) || m.rows < 1 || m.columns < 1) {
      throw new WorkspaceError('invalid', `A mask needs positive integer rows and columns, not ${m.rows}×${m.columns}`);
    }
    // Masks are kept at image resolution: a mask of another size belongs to another image.
    if ((kase.rows !== null && kase.rows !== m.rows) || (kase.columns !== null && kase.columns !== m.columns)) {
      throw new WorkspaceError(
        'invalid',
        `The mask is ${m.columns}×${m.rows}; case ${m.caseId} (${kase.display_name}) is ${kase.columns ?? '?'}×${kase.rows ?? '?'} pixels`,
      );
    }
    if (m.labels.length !== m.rows * m.columns) {
      throw new WorkspaceError('invalid', `A ${m.columns}×${m.rows} mask has ${m.rows * m.columns} pixels, not ${m.labels.length}`);
    }
    let foreground = 0;
    for (let i = 0; i < m.labels.length; i++) {
      const v = m.labels[i];
      if (v === 0) continue;
      if (v > task.classes.length) {
        throw new WorkspaceError(
          'invalid',
          `Mask pixel (${i % m.columns}, ${Math.floor(i / m.columns)}) has class ${v}; task '${task.name}' has ${task.classes.length} class(es)`,
        );
      }
      foreground++;
    }
    const source = m.source ?? 'human';
    if (!MASK_SOURCES.includes(source)) throw new WorkspaceError('invalid', `Unknown mask source '${String(source)}'`);
    const fromPrediction = source === 'accepted-prediction' || source === 'edited-prediction';
    if (fromPrediction !== (m.adapterVersionId !== undefined)) {
      throw new WorkspaceError(
        'invalid',
        fromPrediction ? `A mask from a prediction (${source}) must name the adapter version that predicted it` : `Only a mask from a prediction names an adapter version`,
      );
    }
    if (m.adapterVersionId !== undefined) {
      const v = this.db.prepare('SELECT task_id FROM adapter_versions WHERE id = ?').get(m.adapterVersionId) as { task_id: number } | undefined;
      if (!v || v.task_id !== m.taskId) throw new WorkspaceError('invalid', `Adapter version ${m.adapterVersionId} is not a version of task '${task.name}'`);
    }
    const plane = Buffer.from(m.labels.buffer, m.labels.byteOffset, m.labels.byteLength);
    const id = Number(
      this.db
        .prepare(
          `INSERT INTO mask_events (task_id, case_id, frame, rows, columns, encoding, data, sha256, foreground, author, source, adapter_version_id, created_at)
           VALUES (?, ?, ?, ?, ?, 'deflate-u8', ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          m.taskId,
          m.caseId,
          m.frame,
          m.rows,
          m.columns,
          deflateSync(plane),
          sha256Hex(m.labels),
          foreground,
          m.author.trim(),
          source,
          m.adapterVersionId ?? null,
          new Date().toISOString(),
        ).lastInsertRowid,
    );
    const event = toEvent(this.db.prepare(`SELECT ${EVENT_COLUMNS} FROM mask_events WHERE id = ?`).get(id) as Row);
    // Read k > 1 times, a reader's mask is their read; the label is the consensus the reads service writes.
    if (readingSettings(task).readsPerCase <= 1) this.syncLabel(event);
    return event;
  }

  /**
   * The case's label for the task follows its masks, so the worklist, progress and splits count a painted case
   * as labelled: the value names the latest mask with foreground; a case whose frames are all empty has none.
   */
  private syncLabel(e: MaskEvent): void {
    const current = this.labels.current(e.caseId, e.taskId);
    const currentSha = current && typeof current.value === 'object' && !Array.isArray(current.value) ? current.value.maskSha256 : undefined;
    const source: LabelSource = e.source === 'import' ? 'import' : e.source === 'accepted-prediction' ? 'accepted-suggestion' : 'human';
    const version = e.source === 'accepted-prediction' ? { adapterVersionId: e.adapterVersionId } : {};
    if (e.foreground > 0) {
      if (currentSha === e.sha256) return;
      this.labels.set({ caseId: e.caseId, taskId: e.taskId, value: { maskSha256: e.sha256, rows: e.rows, columns: e.columns }, author: e.author, source, ...version });
      return;
    }
    const painted = this.db
      .prepare('SELECT 1 FROM current_masks c JOIN mask_events m ON m.id = c.event_id WHERE c.task_id = ? AND c.case_id = ? AND m.foreground > 0 LIMIT 1')
      .get(e.taskId, e.caseId);
    if (current && !painted) this.labels.clear(e.caseId, e.taskId, e.author);
  }
}

function toEvent(r: Row): MaskEvent {
  const e: MaskEvent = {
    id: r.id,
    taskId: r.task_id,
    caseId: r.case_id,
    frame: r.frame,
    rows: r.rows,
    columns: r.columns,
    sha256: r.sha256,
    foreground: r.foreground,
    storedBytes: r.stored_bytes,
    author: r.author,
    source: r.source,
    createdAt: r.created_at,
  };
  if (r.adapter_version_id !== null) e.adapterVersionId = r.adapter_version_id;
  return e;
}

function withPixels(r: Row): StoredMask {
  if (r.encoding !== 'deflate-u8' || !r.data) throw new WorkspaceError('invalid', `Mask event ${r.id} has an unknown encoding '${r.encoding}'`);
  const raw = inflateSync(r.data);
  if (raw.length !== r.rows * r.columns) {
    throw new WorkspaceError('invalid', `Mask event ${r.id} holds ${raw.length} pixels, not ${r.columns}×${r.rows}`);
  }
  return { ...toEvent(r), labels: new Uint8Array(raw.buffer, raw.byteOffset, raw.length) };
}
