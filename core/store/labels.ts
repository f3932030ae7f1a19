import type { Database } from 'better-sqlite3';
import { WorkspaceError } from './errors';
import { outOfScopeReason, taskCaseCondition } from './scope';
import { SplitService } from './splits';
import { readingSettings, TaskService, type LabelTask } from './tasks';

/**
 * A label value by task kind: multiclass/ordinal → a class name; multilabel → class names (possibly
 * none); segmentation → the blob of a mask (uint8, one value per pixel, 0 = background, i = class i).
 */
export type LabelValue = string | string[] | { maskSha256: string; rows: number; columns: number };

export type LabelSource = 'human' | 'accepted-suggestion' | 'import';

/** Where a current label came from: a label event's source, or for tasks read k > 1 times the consensus or a reviewer's decision. */
export type CurrentLabelSource = LabelSource | 'consensus' | 'adjudicated';

/** How a consensus label event of a task read k > 1 times was reached (docs/readers.md). */
export type ConsensusKind = 'agreed' | 'adjudicated';

export interface LabelEvent {
  id: number;
  caseId: number;
  taskId: number;
  /** null: the label was cleared (or an undo went back to no label). */
  value: LabelValue | null;
  valueText: string | null;
  author: string;
  source: LabelSource;
  adapterVersionId?: number;
  /** Set on events written by undo: the event undone. */
  undoOf?: number;
  /** Tasks read k > 1 times: this event writes the readers' consensus or a reviewer's adjudication. */
  consensus?: ConsensusKind;
  createdAt: string;
}

export interface CurrentLabel {
  caseId: number;
  taskId: number;
  eventId: number;
  value: LabelValue;
  valueText: string | null;
  author: string;
  source: CurrentLabelSource;
  updatedAt: string;
}

export interface SetLabel {
  caseId: number;
  taskId: number;
  value: LabelValue | null;
  author: string;
  source?: LabelSource;
  /** The adapter version whose suggestion was accepted (source 'accepted-suggestion'). */
  adapterVersionId?: number;
  /**
   * Tasks read k > 1 times take a label only as the readers' consensus or a reviewer's decision
   * (written by ReadService), or from an import; a reader's own label there is a read (core/store/reads.ts).
   */
  consensus?: ConsensusKind;
}

interface EventRow {
  id: number;
  case_id: number;
  task_id: number;
  value: string | null;
  value_text: string | null;
  author: string;
  source: LabelSource;
  adapter_version_id: number | null;
  undo_of: number | null;
  state_event_id: number | null;
  prev_state_event_id: number | null;
  consensus: ConsensusKind | null;
  created_at: string;
}

/**
 * Labels are an append-only event log; the current label is the `current_labels` view that a trigger
 * keeps in step. Undo appends an event that restores the state before the current one, so repeated
 * undo walks back through history and nothing is ever rewritten.
 */
export class LabelService {
  private readonly tasks: TaskService;

  private readonly splits: SplitService;

  constructor(private readonly db: Database) {
    this.tasks = new TaskService(db);
    this.splits = new SplitService(db);
  }

  /** Sets (or with value null, clears) a label. Returns the new event. */
  set(input: SetLabel): LabelEvent {
    return this.db.transaction(() => this.setOne(input, this.tasks.get(input.taskId)))();
  }

  /** Sets many labels in one transaction: all are written or none. */
  setMany(inputs: SetLabel[]): LabelEvent[] {
    return this.db.transaction(() => {
      const tasks = new Map<number, LabelTask>();
      return inputs.map((input) => {
        let task = tasks.get(input.taskId);
        if (!task) tasks.set(input.taskId, (task = this.tasks.get(input.taskId)));
        return this.setOne(input, task);
      });
    })();
  }

  clear(caseId: number, taskId: number, author: string): LabelEvent {
    return this.set({ caseId, taskId, value: null, author });
  }

  /** Undoes the latest effective change of this case's label; undefined when there is nothing to undo. */
  undo(caseId: number, taskId: number, author: string): LabelEvent | undefined {
    return this.db.transaction(() => {
      const task = this.tasks.get(taskId);
      if (readingSettings(task).readsPerCase > 1) {
        throw new WorkspaceError('conflict', `Task '${task.name}' is read ${readingSettings(task).readsPerCase} times per case: its label is settled by the readers and a reviewer, not undone`);
      }
      const current = this.latest(caseId, taskId);
      if (!current) return undefined;
      const stateId = current.undo_of !== null ? current.state_event_id : current.id;
      if (stateId === null) return undefined; // already back at "never labelled"
      const state = this.eventRow(stateId);
      const target = state.prev_state_event_id === null ? undefined : this.eventRow(state.prev_state_event_id);
      return this.insert({
        caseId,
        taskId,
        valueJson: target?.value ?? null,
        valueText: target?.value_text ?? null,
        author,
        source: 'human',
        undoOf: current.id,
        stateEventId: target?.id ?? null,
        prevStateEventId: target?.prev_state_event_id ?? null,
      });
    })();
  }

  /** Every event for this case and task, oldest first. */
  history(caseId: number, taskId: number): LabelEvent[] {
    return (
      this.db.prepare('SELECT * FROM label_events WHERE case_id = ? AND task_id = ? ORDER BY id').all(caseId, taskId) as EventRow[]
    ).map(toEvent);
  }

  current(caseId: number, taskId: number): CurrentLabel | undefined {
    const row = this.db
      .prepare(
        `SELECT case_id AS caseId, task_id AS taskId, event_id AS eventId, value, value_text AS valueText, author, source,
           updated_at AS updatedAt FROM current_labels WHERE task_id = ? AND case_id = ?`,
      )
      .get(taskId, caseId) as (Omit<CurrentLabel, 'value'> & { value: string }) | undefined;
    return row ? { ...row, value: JSON.parse(row.value) as LabelValue } : undefined;
  }

  /**
   * All current labels of a task, by case id: only the task's cases (in its scope, and for a series or study
   * task the representatives), quarantined cases left out (they are never training samples).
   */
  currentAll(taskId: number): CurrentLabel[] {
    const task = this.tasks.get(taskId);
    const cond = taskCaseCondition(task.settings.scope, task.settings.caseUnit);
    const rows = this.db
      .prepare(
        `SELECT cl.case_id AS caseId, cl.task_id AS taskId, cl.event_id AS eventId, cl.value, cl.value_text AS valueText, cl.author,
           cl.source, cl.updated_at AS updatedAt FROM current_labels cl JOIN cases c ON c.id = cl.case_id
         WHERE cl.task_id = @task AND cl.case_id NOT IN (SELECT case_id FROM quarantine WHERE case_id IS NOT NULL) AND ${cond.where}
         ORDER BY cl.case_id`,
      )
      .all({ ...cond.params, task: taskId }) as (Omit<CurrentLabel, 'value'> & { value: string })[];
    return rows.map((r) => ({ ...r, value: JSON.parse(r.value) as LabelValue }));
  }

  /** Label events (set, change, clear) of a task newer than event `afterId`: events are append-only with increasing ids. */
  countEventsAfter(taskId: number, afterId: number): number {
    return (this.db.prepare('SELECT count(*) AS n FROM label_events WHERE task_id = ? AND id > ?').get(taskId, afterId) as { n: number }).n;
  }

  /** Number of labelled cases per class name (multilabel: per class present), and the total labelled. */
  counts(taskId: number): { total: number; byClass: Record<string, number> } {
    const byClass: Record<string, number> = {};
    const task = this.tasks.get(taskId);
    for (const c of task.classes) byClass[c.name] = 0;
    let total = 0;
    const cond = taskCaseCondition(task.settings.scope, task.settings.caseUnit);
    const rows = this.db
      .prepare(`SELECT cl.value FROM current_labels cl JOIN cases c ON c.id = cl.case_id WHERE cl.task_id = @task AND ${cond.where}`)
      .all({ ...cond.params, task: taskId }) as { value: string }[];
    for (const { value } of rows) {
      total++;
      const v = JSON.parse(value) as LabelValue;
      for (const name of typeof v === 'string' ? [v] : Array.isArray(v) ? v : []) byClass[name] = (byClass[name] ?? 0) + 1;
    }
    return { total, byClass };
  }

  private setOne(input: SetLabel, task: LabelTask): LabelEvent {
    if (!input.author?.trim()) throw new WorkspaceError('invalid', 'A label needs an author');
    if (!this.db.prepare('SELECT 1 FROM cases WHERE id = ?').get(input.caseId)) {
      throw new WorkspaceError('not-found', `No case with id ${input.caseId}`);
    }
    // A quarantined case (e.g. pixels that cannot be decoded) takes no new label; clearing an old one is allowed.
    const quarantined = this.db
      .prepare('SELECT source_path AS file, reason FROM quarantine WHERE case_id = ? ORDER BY id DESC LIMIT 1')
      .get(input.caseId) as { file: string; reason: string } | undefined;
    if (quarantined && input.value !== null) {
      throw new WorkspaceError('invalid', `Case ${input.caseId} (${quarantined.file}) is quarantined and cannot be labelled: ${quarantined.reason}`);
    }
    // A task labels only the cases it is about (its scope; for a series task, each series' representative).
    if (input.value !== null) {
      const outside = outOfScopeReason(this.db, task, input.caseId);
      if (outside) throw new WorkspaceError('invalid', outside);
    }
    const source = input.source ?? 'human';
    const reads = readingSettings(task).readsPerCase;
    if (reads > 1 && source !== 'import' && !input.consensus) {
      throw new WorkspaceError('conflict', `Task '${task.name}' is read ${reads} times per case: submit a read (the label is the readers' consensus)`);
    }
    if (source === 'accepted-suggestion' && input.adapterVersionId === undefined) {
      throw new WorkspaceError('invalid', 'An accepted suggestion must name the adapter version that suggested it');
    }
    const value = input.value === null ? null : validateValue(input.value, task);
    const current = this.latest(input.caseId, input.taskId);
    const prevState = current ? (current.undo_of !== null ? current.state_event_id : current.id) : null;
    const event = this.insert({
      caseId: input.caseId,
      taskId: input.taskId,
      valueJson: value === null ? null : JSON.stringify(value),
      valueText: value === null ? null : displayText(value),
      author: input.author.trim(),
      source,
      adapterVersionId: input.adapterVersionId,
      consensus: input.consensus,
      stateEventId: null,
      prevStateEventId: prevState,
    });
    // A case joins a split when it is first labelled, stratified by its (first) class.
    if (value !== null) this.splits.assignOnLabel(task.id, input.caseId, stratumOf(value), task.settings.splitFractions);
    return event;
  }

  private insert(e: {
    caseId: number;
    taskId: number;
    /** JSON text of the value, null for no label. */
    valueJson: string | null;
    valueText: string | null;
    author: string;
    source: LabelSource;
    adapterVersionId?: number;
    undoOf?: number;
    consensus?: ConsensusKind;
    stateEventId: number | null;
    prevStateEventId: number | null;
  }): LabelEvent {
    const id = Number(
      this.db
        .prepare(
          `INSERT INTO label_events (case_id, task_id, value, value_text, author, source, adapter_version_id, undo_of,
             state_event_id, prev_state_event_id, created_at${e.consensus ? ', consensus' : ''})
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?${e.consensus ? ', ?' : ''})`,
        )
        .run(
          e.caseId,
          e.taskId,
          e.valueJson,
          e.valueText,
          e.author,
          e.source,
          e.adapterVersionId ?? null,
          e.undoOf ?? null,
          e.stateEventId,
          e.prevStateEventId,
          new Date().toISOString(),
          ...(e.consensus ? [e.consensus] : []),
        ).lastInsertRowid,
    );
    return toEvent(this.eventRow(id));
  }

  private latest(caseId: number, taskId: number): EventRow | undefined {
    return this.db
      .prepare('SELECT * FROM label_events WHERE case_id = ? AND task_id = ? ORDER BY id DESC LIMIT 1')
      .get(caseId, taskId) as EventRow | undefined;
  }

  private eventRow(id: number): EventRow {
    return this.db.prepare('SELECT * FROM label_events WHERE id = ?').get(id) as EventRow;
  }
}

/** Checks a value against the task and puts multilabel values in class order. */
export function validateValue(value: LabelValue, task: LabelTask): LabelValue {
  const names = task.classes.map((c) => c.name);
  const known = (n: unknown): n is string => typeof n === 'string' && names.includes(n);
  switch (task.kind) {
    case 'multiclass':
    case 'ordinal':
      if (!known(value)) {
        throw new WorkspaceError('invalid', `'${String(value)}' is not a class of task '${task.name}' (${names.join(', ')})`);
      }
      return value;
    case 'multilabel': {
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list)) throw new WorkspaceError('invalid', `Task '${task.name}' takes a list of class names`);
      const bad = list.filter((n) => !known(n));
      if (bad.length) throw new WorkspaceError('invalid', `Not classes of task '${task.name}': ${bad.join(', ')}`);
      return names.filter((n) => list.includes(n));
    }
    case 'segmentation': {
      const v = value as { maskSha256?: unknown; rows?: unknown; columns?: unknown };
      if (typeof v !== 'object' || v === null || typeof v.maskSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(v.maskSha256)) {
        throw new WorkspaceError('invalid', `Task '${task.name}' takes a mask: { maskSha256, rows, columns }`);
      }
      if (!Number.isInteger(v.rows) || !Number.isInteger(v.columns)) {
        throw new WorkspaceError('invalid', `Task '${task.name}': a mask needs integer rows and columns`);
      }
      return { maskSha256: v.maskSha256, rows: v.rows as number, columns: v.columns as number };
    }
  }
}

/** The class a case is stratified on: the label itself, or the first class of a multi-label value (none: ''). */
function stratumOf(value: LabelValue): string {
  return typeof value === 'string' ? value : Array.isArray(value) ? ([...value].sort()[0] ?? '') : '';
}

export function displayText(value: LabelValue): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.join(', ');
  return `mask ${value.maskSha256.slice(0, 12)}`;
}

function toEvent(r: EventRow): LabelEvent {
  const e: LabelEvent = {
    id: r.id,
    caseId: r.case_id,
    taskId: r.task_id,
    value: r.value === null ? null : (JSON.parse(r.value) as LabelValue),
    valueText: r.value_text,
    author: r.author,
    source: r.source,
    createdAt: r.created_at,
  };
  if (r.adapter_version_id !== null) e.adapterVersionId = r.adapter_version_id;
  if (r.undo_of !== null) e.undoOf = r.undo_of;
  if (r.consensus) e.consensus = r.consensus;
  return e;
}
