import type { Database } from 'better-sqlite3';
import { BlobStore } from './blobs';
import { WorkspaceError } from './errors';
import { TaskService } from './tasks';

export interface Prediction {
  versionId: number;
  caseId: number;
  probabilities: number[];
  predicted?: string;
  confidence?: number;
  uncertainty?: number;
  embeddingSha256?: string;
  createdAt: string;
}

export interface NewPrediction {
  caseId: number;
  /** One per class, in the task's class order. */
  probabilities: number[];
  /** Default: the most probable class (multilabel: classes ≥ 0.5, joined by ', '). */
  predicted?: string;
  /** Default: the highest probability. */
  confidence?: number;
  /** Default: 1 − confidence (least-confidence). Strategies may store entropy, margin, MC variance… */
  uncertainty?: number;
  /** Pooled backbone features, stored as a blob (little-endian float32). */
  embedding?: Float32Array;
}

interface PredictionRow {
  version_id: number;
  case_id: number;
  probabilities: string;
  predicted: string | null;
  confidence: number | null;
  uncertainty: number | null;
  embedding_sha256: string | null;
  created_at: string;
}

/** Model outputs per (adapter version, case); writing a version's predictions again replaces them. */
export class PredictionService {
  private readonly tasks: TaskService;

  constructor(
    private readonly db: Database,
    private readonly blobs: BlobStore,
  ) {
    this.tasks = new TaskService(db);
  }

  put(versionId: number, items: NewPrediction[]): number {
    const version = this.db.prepare('SELECT task_id AS taskId FROM adapter_versions WHERE id = ?').get(versionId) as
      | { taskId: number }
      | undefined;
    if (!version) throw new WorkspaceError('not-found', `No adapter version with id ${versionId}`);
    const task = this.tasks.get(version.taskId);
    const names = task.classes.map((c) => c.name);
    // Embedding files first (durable), rows after, in one transaction.
    const embeddings = items.map((it) => {
      if (!it.embedding) return undefined;
      const bytes = new Uint8Array(it.embedding.buffer, it.embedding.byteOffset, it.embedding.byteLength);
      return { sha256: this.blobs.writeFile(bytes), size: bytes.byteLength };
    });
    const insert = this.db.prepare(
      `INSERT INTO predictions (version_id, case_id, probabilities, predicted, confidence, uncertainty, embedding_sha256, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (version_id, case_id) DO UPDATE SET probabilities = excluded.probabilities, predicted = excluded.predicted,
         confidence = excluded.confidence, uncertainty = excluded.uncertainty, embedding_sha256 = excluded.embedding_sha256,
         created_at = excluded.created_at`,
    );
    const caseExists = this.db.prepare('SELECT 1 FROM cases WHERE id = ?');
    const createdAt = new Date().toISOString();
    this.db.transaction(() => {
      items.forEach((it, i) => {
        if (!caseExists.get(it.caseId)) throw new WorkspaceError('not-found', `No case with id ${it.caseId}`);
        const p = it.probabilities;
        if (!Array.isArray(p) || p.some((x) => !Number.isFinite(x))) {
          throw new WorkspaceError('invalid', `Case ${it.caseId}: probabilities must be finite numbers`);
        }
        if (task.kind !== 'segmentation' && p.length !== names.length) {
          throw new WorkspaceError('invalid', `Case ${it.caseId}: ${p.length} probabilities for ${names.length} classes`);
        }
        const best = p.length ? p.indexOf(Math.max(...p)) : -1;
        const predicted =
          it.predicted ??
          (task.kind === 'multilabel' ? names.filter((_, k) => p[k] >= 0.5).join(', ') : best >= 0 ? names[best] : undefined);
        const confidence = it.confidence ?? (best >= 0 ? p[best] : undefined);
        const uncertainty = it.uncertainty ?? (confidence !== undefined ? 1 - confidence : undefined);
        const emb = embeddings[i];
        if (emb) this.blobs.record({ sha256: emb.sha256, size: emb.size, location: 'workspace' });
        insert.run(versionId, it.caseId, JSON.stringify(p), predicted ?? null, confidence ?? null, uncertainty ?? null, emb?.sha256 ?? null, createdAt);
      });
    })();
    return items.length;
  }

  get(versionId: number, caseId: number): Prediction | undefined {
    const r = this.db.prepare('SELECT * FROM predictions WHERE version_id = ? AND case_id = ?').get(versionId, caseId) as
      | PredictionRow
      | undefined;
    return r ? toPrediction(r) : undefined;
  }

  list(versionId: number): Prediction[] {
    return (this.db.prepare('SELECT * FROM predictions WHERE version_id = ? ORDER BY case_id').all(versionId) as PredictionRow[]).map(
      toPrediction,
    );
  }

  embedding(versionId: number, caseId: number): Float32Array | undefined {
    const sha = this.get(versionId, caseId)?.embeddingSha256;
    return sha ? toFloat32(this.blobs.read(sha)) : undefined;
  }

  /** The stored embeddings of many cases under a version, in two queries (cases without one are absent). */
  embeddings(versionId: number, caseIds: readonly number[]): Map<number, Float32Array> {
    const wanted = new Set(caseIds);
    const rows = (
      this.db.prepare('SELECT case_id, embedding_sha256 FROM predictions WHERE version_id = ? AND embedding_sha256 IS NOT NULL').all(versionId) as {
        case_id: number;
        embedding_sha256: string;
      }[]
    ).filter((r) => wanted.has(r.case_id));
    const bytes = this.blobs.readMany(rows.map((r) => r.embedding_sha256));
    return new Map(rows.map((r) => [r.case_id, toFloat32(bytes.get(r.embedding_sha256)!)]));
  }
}

function toFloat32(bytes: Buffer): Float32Array {
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function toPrediction(r: PredictionRow): Prediction {
  const p: Prediction = { versionId: r.version_id, caseId: r.case_id, probabilities: JSON.parse(r.probabilities), createdAt: r.created_at };
  if (r.predicted !== null) p.predicted = r.predicted;
  if (r.confidence !== null) p.confidence = r.confidence;
  if (r.uncertainty !== null) p.uncertainty = r.uncertainty;
  if (r.embedding_sha256 !== null) p.embeddingSha256 = r.embedding_sha256;
  return p;
}
