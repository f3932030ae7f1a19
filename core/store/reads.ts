import type { Database } from 'better-sqlite3';
import { WorkspaceError } from './errors';
import { displayText, LabelService, validateValue, type LabelValue } from './labels';
import { majorityMask, masksByAuthor } from './mask-reads';
import { MaskService } from './masks';
import { ReaderService } from './readers';
import { outOfScopeReason } from './scope';
import { readingSettings, TaskService, type LabelTask } from './tasks';
import { seededRandom } from '../util/prng';
import type { CaseState, TrainingLabelMode } from '../vocabulary';

/** One reader's read of a case: the first (independent) read, or the blind repeat for intra-reader agreement. */
export interface CaseRead {
  reader: string;
  kind: 'first' | 'repeat';
  value: LabelValue;
  valueText: string | null;
  createdAt: string;
}

export interface StateChange {
  from: CaseState;
  to: CaseState;
  actor: string;
  note?: string;
  createdAt: string;
}

/** What one reader may see of a case's reads (blind until they have submitted theirs). */
export interface ReadView {
  taskId: number;
  caseId: number;
  readsPerCase: number;
  state: CaseState;
  /** First reads submitted so far, by anyone. */
  readCount: number;
  myRead?: CaseRead;
  /** This reader is to read the case again, blind, now (their own first read is hidden too). */
  repeatPending: boolean;
  /** A repeat is scheduled but not yet due (after other cases or hours): the case stays blind meanwhile. */
  repeatLater: boolean;
  /** The other readers' first reads, or null while hidden from this reader. */
  others: CaseRead[] | null;
  /** Whether this reader may see the model's suggestion for the case now. */
  modelVisible: boolean;
}

/** States in which the reads are complete: the case has left the readers' worklists. */
const COMPLETE: readonly CaseState[] = ['agreed', 'disagreement', 'adjudicated', 'accepted', 'rejected'];
const REVIEWERS = ['reviewer', 'admin'] as const;

interface ReadRow {
  reader: string;
  kind: 'first' | 'repeat';
  value: string;
  value_text: string | null;
  created_at: string;
}

/**
 * Blind multiple reading of tasks with `readsPerCase` k > 1 (docs/readers.md). Each reader submits one
 * read per case, never shown the others' until they have; once k first reads are in, the case is agreed
 * (unanimous, or a strict majority when the task trains on the majority) and its consensus becomes the
 * task's label, or it is in disagreement and waits in the reviewer queue. A reviewer adjudicates a
 * disagreement, or accepts or rejects a settled case. Every state change is kept with who and when.
 */
export class ReadService {
  private readonly tasks: TaskService;

  private readonly labels: LabelService;

  private readonly readers: ReaderService;

  private readonly masks: MaskService;

  constructor(private readonly db: Database) {
    this.tasks = new TaskService(db);
    this.labels = new LabelService(db);
    this.readers = new ReaderService(db);
    this.masks = new MaskService(db);
  }

  /** Submits `reader`'s read: their first, or the blind repeat when one is pending. Submitted reads are final. */
  submit(input: { taskId: number; caseId: number; reader: string; value: LabelValue }): { read: CaseRead; state: CaseState } {
    return this.db.transaction(() => {
      const task = this.multiReadTask(input.taskId);
      const reader = input.reader?.trim();
      if (!reader) throw new WorkspaceError('invalid', 'A read needs a reader');
      this.checkCase(task, input.caseId);
      const value = validateValue(input.value, task);
      if (task.kind === 'segmentation') this.checkSubmittedMask(task, input.caseId, reader, value);
      const mine = this.readsOf(task.id, input.caseId).filter((r) => r.reader === reader);
      let kind: CaseRead['kind'] = 'first';
      if (mine.some((r) => r.kind === 'first')) {
        if (!this.repeatPending(task.id, input.caseId, reader)) {
          throw new WorkspaceError('conflict', `${reader} has already read case ${input.caseId} for '${task.name}'; a submitted read is final (a reviewer settles the case)`);
        }
        if (!this.repeatDue(task, input.caseId, reader)) {
          const { repeatAfterReads, repeatAfterHours } = readingSettings(task);
          throw new WorkspaceError(
            'conflict',
            `${reader}'s repeat read of case ${input.caseId} comes after ${repeatAfterReads} other case(s) or ${repeatAfterHours} hour(s), so it is not read from memory`,
          );
        }
        kind = 'repeat';
      } else if (COMPLETE.includes(this.state(task.id, input.caseId))) {
        throw new WorkspaceError('conflict', `Case ${input.caseId} already has its ${readingSettings(task).readsPerCase} reads for '${task.name}'`);
      }
      const createdAt = new Date().toISOString();
      this.db
        .prepare('INSERT INTO read_events (task_id, case_id, reader, kind, value, value_text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(task.id, input.caseId, reader, kind, JSON.stringify(value), displayText(value), createdAt);
      if (kind === 'first') {
        this.maybeScheduleRepeat(task, input.caseId, reader, createdAt);
        this.afterFirstRead(task, input.caseId, reader);
      }
      return { read: { reader, kind, value, valueText: displayText(value), createdAt }, state: this.state(task.id, input.caseId) };
    })();
  }

  /** The case as `reader` may see it: the others' reads only once this reader has submitted theirs (and owes no repeat). */
  view(taskId: number, caseId: number, reader: string): ReadView {
    const task = this.tasks.get(taskId);
    const settings = readingSettings(task);
    const reads = this.readsOf(taskId, caseId);
    const first = reads.filter((r) => r.kind === 'first');
    const repeatScheduled = this.repeatPending(taskId, caseId, reader);
    const repeatPending = repeatScheduled && this.repeatDue(task, caseId, reader);
    const myRead = repeatScheduled ? undefined : first.find((r) => r.reader === reader);
    const state = this.state(taskId, caseId);
    // A reviewer settling a complete case sees every read; a reader sees them after their own.
    const reviewing = COMPLETE.includes(state) && !first.some((r) => r.reader === reader) && this.isReviewer(reader);
    const unblinded = settings.readsPerCase <= 1 || (!repeatScheduled && (myRead !== undefined || reviewing));
    const view: ReadView = {
      taskId,
      caseId,
      readsPerCase: settings.readsPerCase,
      state,
      readCount: first.length,
      repeatPending,
      repeatLater: repeatScheduled && !repeatPending,
      others: unblinded ? first.filter((r) => r.reader !== reader) : null,
      modelVisible: unblinded || settings.showModelInBlind,
    };
    if (myRead) view.myRead = myRead;
    return view;
  }

  /** A case's state for a task ('unread' until its first read). */
  state(taskId: number, caseId: number): CaseState {
    const row = this.db.prepare('SELECT state FROM case_states WHERE task_id = ? AND case_id = ?').get(taskId, caseId) as { state: CaseState } | undefined;
    return row?.state ?? 'unread';
  }

  /** Every state change of a case, oldest first. */
  history(taskId: number, caseId: number): StateChange[] {
    const rows = this.db
      .prepare('SELECT from_state, to_state, actor, note, created_at FROM case_state_history WHERE task_id = ? AND case_id = ? ORDER BY id')
      .all(taskId, caseId) as { from_state: CaseState; to_state: CaseState; actor: string; note: string | null; created_at: string }[];
    return rows.map((r) => ({ from: r.from_state, to: r.to_state, actor: r.actor, createdAt: r.created_at, ...(r.note ? { note: r.note } : {}) }));
  }

  /** Cases per state (unread = the cases in the task's worklist without a read are not counted here). */
  stateCounts(taskId: number): Partial<Record<CaseState, number>> {
    const out: Partial<Record<CaseState, number>> = {};
    for (const r of this.db.prepare('SELECT state, count(*) AS n FROM case_states WHERE task_id = ? GROUP BY state').all(taskId) as { state: CaseState; n: number }[]) {
      out[r.state] = r.n;
    }
    return out;
  }

  /** A reviewer decides a case in disagreement (or overrides a settled one): their class becomes the label. */
  adjudicate(input: { taskId: number; caseId: number; reviewer: string; value: LabelValue; note?: string }): CaseState {
    return this.db.transaction(() => {
      const task = this.multiReadTask(input.taskId);
      this.readers.requireRole(input.reviewer, REVIEWERS, 'adjudicate');
      const state = this.state(task.id, input.caseId);
      if (!COMPLETE.includes(state)) {
        throw new WorkspaceError('conflict', `Case ${input.caseId} has ${this.firstReadCount(task.id, input.caseId)} of its ${readingSettings(task).readsPerCase} reads; it is adjudicated once they are in`);
      }
      if (task.kind === 'segmentation') {
        // The reviewer's decision is a mask they saved (it is then the frame's current mask, what training reads).
        const sha = typeof input.value === 'object' && !Array.isArray(input.value) ? input.value.maskSha256 : '';
        const current = this.db
          .prepare('SELECT 1 FROM current_masks c JOIN mask_events e ON e.id = c.event_id WHERE c.task_id = ? AND c.case_id = ? AND e.sha256 = ?')
          .get(task.id, input.caseId, sha);
        if (!current) throw new WorkspaceError('invalid', `Mask ${sha.slice(0, 12)} is not a current mask of case ${input.caseId}: save the reviewed mask, then adjudicate with it`);
      }
      this.labels.set({ caseId: input.caseId, taskId: task.id, value: input.value, author: input.reviewer, consensus: 'adjudicated' });
      // The same reviewer refining their decision (e.g. each save of an adjudicated mask) is no new state.
      const last = this.history(task.id, input.caseId).at(-1);
      if (state !== 'adjudicated' || last?.actor !== input.reviewer || input.note) this.transition(task.id, input.caseId, 'adjudicated', input.reviewer, input.note);
      return 'adjudicated' as const;
    })();
  }

  /** A reviewer confirms the agreed (or adjudicated) label. */
  accept(input: { taskId: number; caseId: number; reviewer: string; note?: string }): CaseState {
    return this.db.transaction(() => {
      const task = this.multiReadTask(input.taskId);
      this.readers.requireRole(input.reviewer, REVIEWERS, 'accept a case');
      const state = this.state(task.id, input.caseId);
      if (state !== 'agreed' && state !== 'adjudicated') {
        throw new WorkspaceError('conflict', `Only an agreed or adjudicated case can be accepted (case ${input.caseId} is ${state})`);
      }
      this.transition(task.id, input.caseId, 'accepted', input.reviewer, input.note);
      return 'accepted' as const;
    })();
  }

  /** A reviewer takes a complete case out of the label set (e.g. not gradable): its label is cleared. */
  reject(input: { taskId: number; caseId: number; reviewer: string; note?: string }): CaseState {
    return this.db.transaction(() => {
      const task = this.multiReadTask(input.taskId);
      this.readers.requireRole(input.reviewer, REVIEWERS, 'reject a case');
      const state = this.state(task.id, input.caseId);
      if (!COMPLETE.includes(state) || state === 'rejected') {
        throw new WorkspaceError('conflict', `Case ${input.caseId} cannot be rejected while it is ${state}`);
      }
      if (this.labels.current(input.caseId, task.id)) {
        this.labels.set({ caseId: input.caseId, taskId: task.id, value: null, author: input.reviewer, consensus: 'adjudicated' });
      }
      this.transition(task.id, input.caseId, 'rejected', input.reviewer, input.note);
      return 'rejected' as const;
    })();
  }

  /** Every read of a task, oldest first (agreement, export). */
  allReads(taskId: number): (CaseRead & { caseId: number })[] {
    const rows = this.db
      .prepare('SELECT case_id, reader, kind, value, value_text, created_at FROM read_events WHERE task_id = ? ORDER BY case_id, id')
      .all(taskId) as (ReadRow & { case_id: number })[];
    return rows.map((r) => ({ caseId: r.case_id, ...toRead(r) }));
  }

  /** Of `caseIds`, those on which `reader` has submitted a first read and owes no repeat (they may see the model). */
  unblindedCaseIds(taskId: number, reader: string, caseIds: number[]): Set<number> {
    const rows = this.db
      .prepare(`SELECT case_id FROM (${unblindedCasesSql('@task', '@reader')}) WHERE case_id IN (SELECT value FROM json_each(@ids))`)
      .all({ task: taskId, reader, ids: JSON.stringify(caseIds) }) as { case_id: number }[];
    return new Set(rows.map((r) => r.case_id));
  }

  /**
   * 'soft' training (docs/readers.md): per complete, not rejected case, one value per read: the reads
   * themselves while the readers disagree, else the case's label once per read. A case trained once
   * per value with the plain cross-entropy is trained on the mean one-hot of its reads, and every case
   * keeps the same weight (k samples). Empty unless the task is read k > 1 times with trainingLabel 'soft'.
   */
  softReads(taskId: number): Map<number, LabelValue[]> {
    const task = this.tasks.get(taskId);
    const { readsPerCase, trainingLabel } = readingSettings(task);
    const out = new Map<number, LabelValue[]>();
    if (readsPerCase <= 1 || trainingLabel !== 'soft') return out;
    const states = new Map(
      (this.db.prepare(`SELECT case_id, state FROM case_states WHERE task_id = ?`).all(taskId) as { case_id: number; state: CaseState }[]).map((r) => [r.case_id, r.state]),
    );
    const reads = new Map<number, LabelValue[]>();
    for (const r of this.allReads(taskId)) if (r.kind === 'first') reads.set(r.caseId, [...(reads.get(r.caseId) ?? []), r.value]);
    for (const [caseId, values] of reads) {
      const state = states.get(caseId);
      if (state === undefined || !COMPLETE.includes(state) || state === 'rejected') continue;
      const label = state === 'disagreement' ? undefined : this.labels.current(caseId, taskId)?.value;
      out.set(caseId, label === undefined ? values : values.map(() => label));
    }
    return out;
  }

  private afterFirstRead(task: LabelTask, caseId: number, reader: string): void {
    const { readsPerCase, trainingLabel } = readingSettings(task);
    const first = this.readsOf(task.id, caseId).filter((r) => r.kind === 'first');
    if (first.length < readsPerCase) {
      if (this.state(task.id, caseId) === 'unread') this.transition(task.id, caseId, 'read', reader);
      return;
    }
    if (task.kind === 'segmentation') {
      this.maskConsensus(task, caseId, first.map((r) => r.reader), reader);
      return;
    }
    const winner = consensusOf(first.map((r) => JSON.stringify(r.value)), trainingLabel);
    if (winner === undefined) {
      this.transition(task.id, caseId, 'disagreement', reader, `${first.length} reads disagree`);
      return;
    }
    const readers = first.map((r) => r.reader).join(' + ');
    this.labels.set({ caseId, taskId: task.id, value: JSON.parse(winner) as LabelValue, author: readers, consensus: 'agreed' });
    this.transition(task.id, caseId, 'agreed', reader, trainingLabel === 'majority' ? 'majority of the reads' : 'all reads agree');
  }

  /**
   * The k-th mask of a case is in: identical masks are agreed, as (under 'majority') is the per-pixel
   * majority vote; otherwise the case waits for a reviewer. An agreed consensus is saved as a mask event
   * per frame (author: the readers) and becomes the task's label, so current_masks holds it for training.
   */
  private maskConsensus(task: LabelTask, caseId: number, readers: string[], reader: string): void {
    const { trainingLabel } = readingSettings(task);
    const byReader = masksByAuthor(this.db, task.id, { caseId, authors: readers });
    const frames = [...new Set(readers.flatMap((r) => [...(byReader.get(r)?.get(caseId)?.keys() ?? [])]))].sort((a, b) => a - b);
    const consensus: { frame: number; labels: Uint8Array }[] = [];
    let identical = true;
    for (const frame of frames) {
      const planes = readers.map((r) => byReader.get(r)?.get(caseId)?.get(frame));
      const size = planes.find((p) => p)!.length;
      const filled = planes.map((p) => p ?? new Uint8Array(size));
      if (filled.some((p) => Buffer.compare(Buffer.from(p.buffer, p.byteOffset, p.byteLength), Buffer.from(filled[0].buffer, filled[0].byteOffset, filled[0].byteLength)) !== 0)) identical = false;
      consensus.push({ frame, labels: majorityMask(filled, task.classes.length) });
    }
    if (!identical && trainingLabel !== 'majority') {
      this.transition(task.id, caseId, 'disagreement', reader, `${readers.length} masks differ`);
      return;
    }
    const author = readers.join(' + ');
    // The readers' masks have the case's size (MaskService checks it), so the consensus takes theirs.
    const size = (frame: number) =>
      this.db.prepare('SELECT rows, columns FROM mask_events WHERE task_id = ? AND case_id = ? AND frame = ? ORDER BY id DESC LIMIT 1').get(task.id, caseId, frame) as {
        rows: number;
        columns: number;
      };
    const events = this.masks.saveMany(consensus.map((c) => ({ taskId: task.id, caseId, frame: c.frame, ...size(c.frame), labels: c.labels, author })));
    const named = events.find((e) => e.foreground > 0) ?? events[0];
    if (named) {
      this.labels.set({ caseId, taskId: task.id, value: { maskSha256: named.sha256, rows: named.rows, columns: named.columns }, author, consensus: 'agreed' });
    }
    this.transition(task.id, caseId, 'agreed', reader, identical ? 'all masks agree' : 'per-pixel majority of the masks');
  }

  /** A segmentation read names one of the reader's own saved masks of the case (what they painted is their read). */
  private checkSubmittedMask(task: LabelTask, caseId: number, reader: string, value: LabelValue): void {
    const sha = typeof value === 'object' && !Array.isArray(value) ? value.maskSha256 : '';
    const own = this.db.prepare('SELECT 1 FROM mask_events WHERE task_id = ? AND case_id = ? AND author = ? AND sha256 = ?').get(task.id, caseId, reader, sha);
    if (!own) throw new WorkspaceError('invalid', `${reader} has no saved mask ${sha.slice(0, 12)} of case ${caseId} for '${task.name}': save the mask, then submit it`);
  }

  /** A deterministic share of each reader's cases is read again (seeded by task, case and reader, so it is reproducible). */
  private maybeScheduleRepeat(task: LabelTask, caseId: number, reader: string, now: string): void {
    const { intraReaderFraction } = readingSettings(task);
    // A repeat mask would replace the reader's first one (masks are kept per reader and frame): not for masks.
    if (task.kind === 'segmentation') return;
    if (intraReaderFraction <= 0 || seededRandom(`repeat:${task.id}:${caseId}:${reader}`)() >= intraReaderFraction) return;
    this.db.prepare('INSERT OR IGNORE INTO read_repeats (task_id, case_id, reader, scheduled_at) VALUES (?, ?, ?, ?)').run(task.id, caseId, reader, now);
  }

  /** Whether `reader`'s pending repeat of a case may be shown now (docs/readers.md: after N other reads or H hours). */
  private repeatDue(task: LabelTask, caseId: number, reader: string): boolean {
    return !!this.db
      .prepare(`SELECT 1 FROM read_repeats rr WHERE rr.task_id = @task AND rr.case_id = @caseId AND rr.reader = @reader AND ${DUE_REPEAT_SQL}`)
      .get({ task: task.id, caseId, reader, ...repeatDueParams(task) });
  }

  private repeatPending(taskId: number, caseId: number, reader: string): boolean {
    return !!this.db
      .prepare(
        `SELECT 1 FROM read_repeats rr WHERE rr.task_id = ? AND rr.case_id = ? AND rr.reader = ?
           AND NOT EXISTS (SELECT 1 FROM read_events re WHERE re.task_id = rr.task_id AND re.case_id = rr.case_id AND re.reader = rr.reader AND re.kind = 'repeat')`,
      )
      .get(taskId, caseId, reader);
  }

  private transition(taskId: number, caseId: number, to: CaseState, actor: string, note?: string): void {
    const from = this.state(taskId, caseId);
    const now = new Date().toISOString();
    this.db
      .prepare(
        `INSERT INTO case_states (task_id, case_id, state, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (task_id, case_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
      )
      .run(taskId, caseId, to, now);
    this.db
      .prepare('INSERT INTO case_state_history (task_id, case_id, from_state, to_state, actor, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(taskId, caseId, from, to, actor, note ?? null, now);
  }

  private readsOf(taskId: number, caseId: number): CaseRead[] {
    return (
      this.db
        .prepare('SELECT reader, kind, value, value_text, created_at FROM read_events WHERE task_id = ? AND case_id = ? ORDER BY id')
        .all(taskId, caseId) as ReadRow[]
    ).map(toRead);
  }

  private firstReadCount(taskId: number, caseId: number): number {
    return (this.db.prepare(`SELECT count(*) AS n FROM read_events WHERE task_id = ? AND case_id = ? AND kind = 'first'`).get(taskId, caseId) as { n: number }).n;
  }

  private isReviewer(name: string): boolean {
    const profile = this.readers.get(name);
    return !!profile && (REVIEWERS as readonly string[]).includes(profile.role);
  }

  private multiReadTask(taskId: number): LabelTask {
    const task = this.tasks.get(taskId);
    if (readingSettings(task).readsPerCase <= 1) {
      throw new WorkspaceError('invalid', `Task '${task.name}' is read once per case: set its label instead of submitting a read`);
    }
    return task;
  }

  private checkCase(task: LabelTask, caseId: number): void {
    if (!this.db.prepare('SELECT 1 FROM cases WHERE id = ?').get(caseId)) throw new WorkspaceError('not-found', `No case with id ${caseId}`);
    const quarantined = this.db
      .prepare('SELECT source_path AS file, reason FROM quarantine WHERE case_id = ? ORDER BY id DESC LIMIT 1')
      .get(caseId) as { file: string; reason: string } | undefined;
    if (quarantined) throw new WorkspaceError('invalid', `Case ${caseId} (${quarantined.file}) is quarantined and cannot be read: ${quarantined.reason}`);
    const outside = outOfScopeReason(this.db, task, caseId);
    if (outside) throw new WorkspaceError('invalid', outside);
  }
}

/**
 * A repeat read `rr` (read_repeats) is due, i.e. shown again, once its reader has submitted @repeatReads
 * first reads of the task after their first read of that case, or it was scheduled at or before
 * @repeatCutoff (now − the task's hours): so an intra-reader repeat is never right after the first read.
 */
/**
 * `SELECT case_id …` of the cases a reader may see unblinded on a k-read task (parameters named by
 * `task` and `reader`, e.g. '@task'): read by them, with no blind repeat read still pending.
 */
export function unblindedCasesSql(task: string, reader: string): string {
  return `SELECT re.case_id FROM read_events re WHERE re.task_id = ${task} AND re.reader = ${reader} AND re.kind = 'first'
    AND NOT EXISTS (SELECT 1 FROM read_repeats rr WHERE rr.task_id = re.task_id AND rr.case_id = re.case_id AND rr.reader = re.reader
      AND NOT EXISTS (SELECT 1 FROM read_events r2 WHERE r2.task_id = re.task_id AND r2.case_id = re.case_id AND r2.reader = re.reader AND r2.kind = 'repeat'))`;
}

export const DUE_REPEAT_SQL = `(rr.scheduled_at <= @repeatCutoff OR (
  SELECT count(*) FROM read_events o WHERE o.task_id = rr.task_id AND o.reader = rr.reader AND o.kind = 'first' AND o.id > (
    SELECT max(f.id) FROM read_events f WHERE f.task_id = rr.task_id AND f.case_id = rr.case_id AND f.reader = rr.reader AND f.kind = 'first')
) >= @repeatReads)`;

/** The parameters of DUE_REPEAT_SQL for a task, at `now`. */
export function repeatDueParams(task: { settings: LabelTask['settings'] }, now = Date.now()): { repeatReads: number; repeatCutoff: string } {
  const { repeatAfterReads, repeatAfterHours } = readingSettings(task);
  return { repeatReads: repeatAfterReads, repeatCutoff: new Date(now - repeatAfterHours * 3_600_000).toISOString() };
}

/**
 * The agreed value of k reads (as JSON texts), or undefined for a disagreement: unanimous reads, or
 * under 'majority' a value more than half of the reads share (a tie is a disagreement).
 */
export function consensusOf(values: string[], mode: TrainingLabelMode): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  for (const [v, n] of counts) {
    if (n === values.length) return v;
    if (mode === 'majority' && n * 2 > values.length) return v;
  }
  return undefined;
}

function toRead(r: ReadRow): CaseRead {
  return { reader: r.reader, kind: r.kind, value: JSON.parse(r.value) as LabelValue, valueText: r.value_text, createdAt: r.created_at };
}
