import type { Database } from 'better-sqlite3';
import { MEASUREMENT_KINDS, type MeasurementKind } from '../vocabulary';
import { WorkspaceError } from './errors';
import { scopeCondition, type TaskScope } from './scope';

/** How many points each kind has: a line's two ends, an angle's arm–vertex–arm, a ROI's two opposite corners. */
export const MEASUREMENT_POINTS: Record<MeasurementKind, number> = { length: 2, angle: 3, ellipse: 2, rectangle: 2 };

export interface Measurement {
  id: number;
  caseId: number;
  frame: number;
  kind: MeasurementKind;
  /** Image pixel coordinates [x, y]. */
  points: [number, number][];
  author: string;
  createdAt: string;
}

export interface NewMeasurement {
  caseId: number;
  frame: number;
  kind: MeasurementKind;
  points: [number, number][];
  author: string;
}

interface Row {
  id: number;
  case_id: number;
  frame: number;
  kind: MeasurementKind;
  points: string;
  author: string;
  created_at: string;
}

/** A reader's measurements per case: added, listed, deleted (not history, like review marks). */
export class MeasurementService {
  constructor(private readonly db: Database) {}

  list(caseId: number): Measurement[] {
    const rows = this.db.prepare('SELECT * FROM measurements WHERE case_id = ? ORDER BY id').all(caseId) as Row[];
    return rows.map(toMeasurement);
  }

  /** Every measurement on a case in the scope (any slice of a series or study task), by case then id. */
  inScope(scope: TaskScope): Measurement[] {
    const cond = scopeCondition(scope);
    const rows = this.db
      .prepare(`SELECT m.* FROM measurements m JOIN cases c ON c.id = m.case_id WHERE ${cond.where} ORDER BY m.case_id, m.id`)
      .all(cond.params) as Row[];
    return rows.map(toMeasurement);
  }

  add(m: NewMeasurement): Measurement {
    if (!m.author?.trim()) throw new WorkspaceError('invalid', 'A measurement needs an author');
    if (!MEASUREMENT_KINDS.includes(m.kind)) throw new WorkspaceError('invalid', `Unknown measurement kind "${m.kind}"`);
    const want = MEASUREMENT_POINTS[m.kind];
    if (m.points.length !== want || m.points.some((p) => p.length !== 2 || !p.every(Number.isFinite))) {
      throw new WorkspaceError('invalid', `A ${m.kind} measurement needs ${want} points of two finite numbers`);
    }
    if (!Number.isInteger(m.frame) || m.frame < 0) throw new WorkspaceError('invalid', `Frame ${m.frame} is not a frame index`);
    const row = this.db.prepare('SELECT frame_count FROM cases WHERE id = ?').get(m.caseId) as { frame_count: number } | undefined;
    if (!row) throw new WorkspaceError('not-found', `No case with id ${m.caseId}`);
    if (m.frame >= row.frame_count) throw new WorkspaceError('invalid', `Case ${m.caseId} has ${row.frame_count} frame(s), not frame ${m.frame + 1}`);
    const info = this.db
      .prepare('INSERT INTO measurements (case_id, frame, kind, points, author, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(m.caseId, m.frame, m.kind, JSON.stringify(m.points), m.author.trim(), new Date().toISOString());
    return toMeasurement(this.db.prepare('SELECT * FROM measurements WHERE id = ?').get(info.lastInsertRowid) as Row);
  }

  /** Deletes one measurement; false when there was none with that id. */
  delete(id: number): boolean {
    return this.db.prepare('DELETE FROM measurements WHERE id = ?').run(id).changes > 0;
  }
}

function toMeasurement(r: Row): Measurement {
  return {
    id: r.id,
    caseId: r.case_id,
    frame: r.frame,
    kind: r.kind,
    points: JSON.parse(r.points) as [number, number][],
    author: r.author,
    createdAt: r.created_at,
  };
}
