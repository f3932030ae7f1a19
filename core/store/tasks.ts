import type { Database } from 'better-sqlite3';
import { WorkspaceError } from './errors';
import { DEFAULT_SPLIT_FRACTIONS, type SplitFractions } from './splits';
import { normaliseCaseUnit, normaliseScope, type CaseUnit, type TaskScope } from './scope';
import { TASK_KINDS, TRAINING_LABEL_MODES, type StrategyName, type TaskKind, type TrainingLabelMode } from '../vocabulary';

export { TASK_KINDS, type TaskKind } from '../vocabulary';
export { CASE_UNITS, LATERALITIES, type CaseUnit, type Laterality, type TaskScope } from './scope';

export interface TaskClass {
  name: string;
  /** CSS colour, '#rrggbb'. */
  color: string;
  /** A single key that applies this class ('1'…'9', '0', or a letter). */
  hotkey?: string;
}

/** Per-task settings; every field has a default, so `{}` is a valid value. */
export interface TaskSettings {
  /** Shares of newly labelled cases put into validation and held-out test (stratified by class). */
  splitFractions: SplitFractions;
  /** The cases the task is about (core/store/scope.ts); `{}` is every case. */
  scope: TaskScope;
  /** What one worklist row is: an image, or a series / study represented by its middle image. */
  caseUnit: CaseUnit;
  /** The learning loop's settings for this task (core/app/learning-loop.ts); absent fields take LOOP_DEFAULTS. */
  loop?: TaskLoopSettings;
  /** The task's labelling guidelines as Markdown, shown to readers beside the image. */
  guidelines?: string;
  /** Independent (blind) reads each case needs; absent or 1 = one label per case, as before (docs/readers.md). */
  readsPerCase?: number;
  /** Tasks read k > 1 times: whether a reader sees the model's suggestion before submitting a read (default: no). */
  showModelInBlind?: boolean;
  /** Tasks read k > 1 times: what training takes (default 'reviewer'). */
  trainingLabel?: TrainingLabelMode;
  /** Tasks read k > 1 times: share of each reader's cases shown to them again, blind, for intra-reader agreement (default 0). */
  intraReaderFraction?: number;
  /** A repeat read is shown once the reader has read this many other cases of the task since… (default 5) */
  repeatAfterReads?: number;
  /** …or this many hours have passed since their first read, whichever comes first (default 24). */
  repeatAfterHours?: number;
}

/** The reading settings of a task with their defaults filled in. */
export interface ReadingSettings {
  readsPerCase: number;
  showModelInBlind: boolean;
  trainingLabel: TrainingLabelMode;
  intraReaderFraction: number;
  repeatAfterReads: number;
  repeatAfterHours: number;
}

export const MAX_READS_PER_CASE = 10;

export function readingSettings(task: { settings: TaskSettings }): ReadingSettings {
  const s = task.settings;
  return {
    readsPerCase: s.readsPerCase ?? 1,
    showModelInBlind: s.showModelInBlind ?? false,
    trainingLabel: s.trainingLabel ?? 'reviewer',
    intraReaderFraction: s.intraReaderFraction ?? 0,
    repeatAfterReads: s.repeatAfterReads ?? 5,
    repeatAfterHours: s.repeatAfterHours ?? 24,
  };
}

function checkReadingSettings(s: TaskSettings): void {
  const { readsPerCase, trainingLabel, intraReaderFraction, showModelInBlind, repeatAfterReads, repeatAfterHours } = s;
  if (readsPerCase !== undefined && !(Number.isInteger(readsPerCase) && readsPerCase >= 1 && readsPerCase <= MAX_READS_PER_CASE)) {
    throw new WorkspaceError('invalid', `Reads per case must be a whole number from 1 to ${MAX_READS_PER_CASE} (got ${String(readsPerCase)})`);
  }
  if (trainingLabel !== undefined && !(TRAINING_LABEL_MODES as readonly string[]).includes(trainingLabel)) {
    throw new WorkspaceError('invalid', `Training label must be one of ${TRAINING_LABEL_MODES.join(', ')} (got '${String(trainingLabel)}')`);
  }
  if (intraReaderFraction !== undefined && !(typeof intraReaderFraction === 'number' && intraReaderFraction >= 0 && intraReaderFraction <= 1)) {
    throw new WorkspaceError('invalid', `The intra-reader fraction must be from 0 to 1 (got ${String(intraReaderFraction)})`);
  }
  if (repeatAfterReads !== undefined && !(Number.isInteger(repeatAfterReads) && repeatAfterReads >= 0 && repeatAfterReads <= 1000)) {
    throw new WorkspaceError('invalid', `A repeat read comes after 0 to 1,000 other cases (got ${String(repeatAfterReads)})`);
  }
  if (repeatAfterHours !== undefined && !(typeof repeatAfterHours === 'number' && repeatAfterHours >= 0 && repeatAfterHours <= 24 * 366)) {
    throw new WorkspaceError('invalid', `A repeat read comes after 0 to ${24 * 366} hours (got ${String(repeatAfterHours)})`);
  }
  if (showModelInBlind !== undefined && typeof showModelInBlind !== 'boolean') {
    throw new WorkspaceError('invalid', 'showModelInBlind must be true or false');
  }
}

export interface TaskLoopSettings {
  enabled?: boolean;
  firstRunAt?: number;
  /** New label changes before the next run; null/absent = scaled with the task's size. */
  every?: number | null;
  minEvery?: number;
  fraction?: number;
  maxScoredPerRound?: number;
  suggestCount?: number;
  strategy?: StrategyName;
}

export const DEFAULT_TASK_SETTINGS: TaskSettings = { splitFractions: DEFAULT_SPLIT_FRACTIONS, scope: {}, caseUnit: 'image' };

export interface LabelTask {
  id: number;
  name: string;
  kind: TaskKind;
  /** In order; for ordinal tasks the order is the scale (lowest first). */
  classes: TaskClass[];
  description?: string;
  settings: TaskSettings;
  createdAt: string;
}

export interface NewTask {
  name: string;
  kind: TaskKind;
  classes: (string | { name: string; color?: string; hotkey?: string })[];
  description?: string;
  scope?: TaskScope;
  caseUnit?: CaseUnit;
}

// Colour-blind-friendly defaults (Okabe–Ito), then a few more distinct hues.
const DEFAULT_COLORS = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#000000', '#999999', '#882255'];
const DEFAULT_HOTKEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'];

interface TaskRow {
  id: number;
  name: string;
  kind: TaskKind;
  classes: string;
  description: string | null;
  settings: string;
  created_at: string;
}

export class TaskService {
  constructor(private readonly db: Database) {}

  create(input: NewTask): LabelTask {
    const name = input.name?.trim();
    if (!name) throw new WorkspaceError('invalid', 'A label task needs a name');
    if (!(TASK_KINDS as readonly string[]).includes(input.kind)) {
      throw new WorkspaceError('invalid', `Unknown task kind '${String(input.kind)}' (expected ${TASK_KINDS.join(', ')})`);
    }
    const classes = normaliseClasses(input.classes ?? [], input.kind);
    const settings: Partial<TaskSettings> = {};
    if (input.scope !== undefined) settings.scope = normaliseScope(input.scope);
    if (input.caseUnit !== undefined) settings.caseUnit = normaliseCaseUnit(input.caseUnit);
    if (this.byName(name)) throw new WorkspaceError('conflict', `A label task named '${name}' already exists`);
    const createdAt = new Date().toISOString();
    const id = this.db.transaction(() => {
      const newId = Number(
        this.db
          .prepare('INSERT INTO tasks (name, kind, classes, description, created_at) VALUES (?, ?, ?, ?, ?)')
          .run(name, input.kind, JSON.stringify(classes), input.description ?? null, createdAt).lastInsertRowid,
      );
      // Written only when chosen, so a workspace built with pre-V3 migrations (their tests) still takes tasks.
      if (Object.keys(settings).length) this.db.prepare('UPDATE tasks SET settings = ? WHERE id = ?').run(JSON.stringify(settings), newId);
      return newId;
    })();
    return this.get(id);
  }

  get(id: number): LabelTask {
    const row = this.db.prepare('SELECT * FROM tasks WHERE id = ?').get(id) as TaskRow | undefined;
    if (!row) throw new WorkspaceError('not-found', `No label task with id ${id}`);
    return toTask(row);
  }

  byName(name: string): LabelTask | undefined {
    const row = this.db.prepare('SELECT * FROM tasks WHERE name = ?').get(name) as TaskRow | undefined;
    return row ? toTask(row) : undefined;
  }

  list(): LabelTask[] {
    return (this.db.prepare('SELECT * FROM tasks ORDER BY id').all() as TaskRow[]).map(toTask);
  }

  /** Changes some settings of a task; the others keep their values. */
  updateSettings(id: number, change: Partial<TaskSettings>): LabelTask {
    const task = this.get(id);
    const next: TaskSettings = { ...task.settings, ...change };
    next.scope = normaliseScope(next.scope);
    next.caseUnit = normaliseCaseUnit(next.caseUnit);
    // Labels stay on the case they were given to: changing the unit of a labelled task would orphan them.
    if (next.caseUnit !== task.settings.caseUnit && this.db.prepare('SELECT 1 FROM current_labels WHERE task_id = ? LIMIT 1').get(id)) {
      throw new WorkspaceError('conflict', `Task '${task.name}' has labels; its case unit (${task.settings.caseUnit}) cannot change`);
    }
    checkReadingSettings(next);
    const { val, test } = next.splitFractions;
    if (!(val >= 0 && test >= 0 && val + test < 1)) {
      throw new WorkspaceError('invalid', `Split fractions must be ≥ 0 and leave cases for training (validation ${val}, test ${test})`);
    }
    this.db.prepare('UPDATE tasks SET settings = ? WHERE id = ?').run(JSON.stringify(next), id);
    return this.get(id);
  }

  /** Appends classes (existing labels stay valid; classes are never removed or reordered). */
  addClasses(id: number, classes: NewTask['classes']): LabelTask {
    const task = this.get(id);
    const merged = normaliseClasses([...task.classes, ...classes], task.kind);
    this.db.prepare('UPDATE tasks SET classes = ? WHERE id = ?').run(JSON.stringify(merged), id);
    return this.get(id);
  }
}

function normaliseClasses(input: NewTask['classes'], kind: TaskKind): TaskClass[] {
  const minimum = kind === 'multiclass' || kind === 'ordinal' ? 2 : 1;
  if (input.length < minimum) throw new WorkspaceError('invalid', `A ${kind} task needs at least ${minimum} classes`);
  const names = new Set<string>();
  const keys = new Set<string>();
  const out = input.map((c, i) => {
    const spec = typeof c === 'string' ? { name: c } : c;
    const name = spec.name?.trim();
    if (!name) throw new WorkspaceError('invalid', `Class ${i + 1} has no name`);
    if (names.has(name)) throw new WorkspaceError('invalid', `Class '${name}' is listed twice`);
    names.add(name);
    const color = spec.color ?? DEFAULT_COLORS[i % DEFAULT_COLORS.length];
    if (!/^#[0-9a-fA-F]{6}$/.test(color)) throw new WorkspaceError('invalid', `Class '${name}': colour '${color}' is not #rrggbb`);
    const hotkey = 'hotkey' in spec && spec.hotkey !== undefined ? spec.hotkey : DEFAULT_HOTKEYS[i];
    const cls: TaskClass = { name, color: color.toLowerCase() };
    if (hotkey !== undefined) {
      if (hotkey.length !== 1) throw new WorkspaceError('invalid', `Class '${name}': hotkey '${hotkey}' must be one key`);
      if (keys.has(hotkey)) throw new WorkspaceError('invalid', `Hotkey '${hotkey}' is used by two classes`);
      keys.add(hotkey);
      cls.hotkey = hotkey;
    }
    return cls;
  });
  return out;
}

function toTask(row: TaskRow): LabelTask {
  const t: LabelTask = {
    id: row.id,
    name: row.name,
    kind: row.kind,
    classes: JSON.parse(row.classes) as TaskClass[],
    settings: { ...DEFAULT_TASK_SETTINGS, ...(JSON.parse(row.settings ?? '{}') as Partial<TaskSettings>) },
    createdAt: row.created_at,
  };
  if (row.description) t.description = row.description;
  return t;
}
