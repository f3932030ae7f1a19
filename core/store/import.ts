import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import { decodePhoto, detectPhotoFormat, ImagingError, isDicom, readDicomHeader } from '../imaging';
import { sha256Hex } from './blobs';
import { WorkspaceError } from './errors';
import { listImportInputs, type ImportCandidate } from './import-sources';
import type { BlobStore } from './blobs';

/** What the importer writes into: a workspace's folder, connection and blob store. */
export interface ImportTarget {
  readonly dir: string;
  readonly db: Database;
  readonly blobs: BlobStore;
}

export interface ImportProgress {
  done: number;
  total: number;
  /** The file just handled. */
  current: string;
}

export interface ImportOptions {
  /** Keep files where they are and record their path instead of copying them in (zip entries are always copied). */
  reference?: boolean;
  onProgress?: (p: ImportProgress) => void;
  /** Stops between files; everything committed so far stays, and the report says `cancelled`. */
  signal?: AbortSignal;
  /** Files per transaction (default 100). */
  batchSize?: number;
}

export interface ImportFailure {
  file: string;
  reason: string;
  code: string;
}

export interface ImportReport {
  /** Files considered (after expanding folders, archives and DICOMDIRs). */
  total: number;
  imported: number;
  /** Same SOP Instance UID or same bytes as a case already in the workspace (or earlier in this import). */
  duplicates: number;
  /** Not images (.json, .md, DICOMDIR, DICOM SR or other objects without pixel data). */
  skipped: number;
  failed: number;
  failures: ImportFailure[];
  skippedFiles: { file: string; reason: string }[];
  caseIds: number[];
  cancelled: boolean;
}

/** Extensions that promise an image: a file with one that cannot be read is a failure, not a skip. */
const IMAGE_EXTENSIONS = new Set(['.dcm', '.dicom', '.dic', '.ima', '.jpg', '.jpeg', '.png', '.tif', '.tiff', '.gif']);

/** Everything the database needs to know about one importable file. */
export interface ImportRecord {
  source: string;
  sha256: string;
  size: number;
  externalPath?: string;
  kind: 'dicom' | 'photo';
  format: string;
  displayName: string;
  patient: { id?: string; name?: string; birthDate?: string; sex?: string };
  study: { uid: string; date?: string; time?: string; description?: string; accession?: string; institution?: string };
  series: { uid: string; modality?: string; number?: number; description?: string; bodyPart?: string };
  instance: { sopInstanceUid: string; sopClassUid?: string; number?: number; transferSyntax?: string };
  frameCount: number;
  rows?: number;
  columns?: number;
}

type Outcome =
  | { kind: 'record'; record: ImportRecord }
  | { kind: 'duplicate' }
  | { kind: 'skipped'; reason: string }
  | { kind: 'failed'; reason: string; code: string; sha256?: string };

/**
 * Imports files into a workspace: copies (or references) them by SHA-256, builds the DICOM hierarchy
 * and one case per image, de-duplicates by SOP Instance UID and by bytes, and quarantines files that
 * cannot be read. Batches of files commit as one transaction, after their blobs are durable, so an
 * interrupted import leaves only whole cases; running it again completes it.
 */
export async function importFiles(ws: ImportTarget, inputs: string[], opts: ImportOptions = {}): Promise<ImportReport> {
  const listing = await listImportInputs(inputs);
  const report: ImportReport = {
    total: listing.candidates.length + listing.problems.length,
    imported: 0,
    duplicates: 0,
    skipped: 0,
    failed: 0,
    failures: [],
    skippedFiles: [],
    caseIds: [],
    cancelled: false,
  };
  const writer = new ImportWriter(ws);
  const batchSize = Math.max(1, opts.batchSize ?? 100);
  let done = 0;
  try {
    for (const p of listing.problems) {
      writer.fail({ file: p.source, reason: p.reason, code: 'missing' });
      report.failed++;
      report.failures.push({ file: p.source, reason: p.reason, code: 'missing' });
      opts.onProgress?.({ done: ++done, total: report.total, current: p.source });
    }
    for (const candidate of listing.candidates) {
      if (opts.signal?.aborted) {
        report.cancelled = true;
        break;
      }
      const outcome = await examine(candidate, writer, opts.reference === true);
      switch (outcome.kind) {
        case 'record':
          writer.add(outcome.record);
          break;
        case 'duplicate':
          report.duplicates++;
          break;
        case 'skipped':
          report.skipped++;
          report.skippedFiles.push({ file: candidate.source, reason: outcome.reason });
          break;
        case 'failed':
          writer.fail({ file: candidate.source, reason: outcome.reason, code: outcome.code }, outcome.sha256);
          report.failed++;
          report.failures.push({ file: candidate.source, reason: outcome.reason, code: outcome.code });
          break;
      }
      if (writer.pendingCount >= batchSize) report.caseIds.push(...(await writer.flush(ws)));
      opts.onProgress?.({ done: ++done, total: report.total, current: candidate.source });
    }
    report.caseIds.push(...(await writer.flush(ws)));
  } finally {
    listing.close();
  }
  report.imported = report.caseIds.length;
  return report;
}

/** Reads and classifies one file; writes its blob file (not its rows) when it is new. */
async function examine(candidate: ImportCandidate, writer: ImportWriter, reference: boolean): Promise<Outcome> {
  const source = candidate.source;
  let bytes: Buffer;
  try {
    bytes = await candidate.read();
  } catch (err) {
    return { kind: 'failed', reason: `cannot read file: ${(err as Error).message}`, code: 'unreadable' };
  }
  const sha256 = sha256Hex(bytes);
  if (writer.knowsBytes(sha256)) return { kind: 'duplicate' };
  const ext = path.extname(source).toLowerCase();

  let record: ImportRecord;
  try {
    if (isDicom(bytes)) {
      const header = readDicomHeader(bytes, source);
      if (!header.hasPixelData) {
        return { kind: 'skipped', reason: `DICOM object without pixel data (SOP class ${header.metadata.sopClassUid ?? 'unknown'})` };
      }
      const m = header.metadata;
      // Malformed files may lack UIDs: derive stable ones from the bytes so re-imports still de-duplicate.
      const sop = m.sopInstanceUid || uidFromText(`sop:${sha256}`);
      record = {
        source,
        sha256,
        size: bytes.byteLength,
        kind: 'dicom',
        format: 'dicom',
        displayName: baseName(source),
        patient: { id: m.patientId, name: m.patientName, birthDate: m.patientBirthDate, sex: m.patientSex },
        study: {
          uid: m.studyInstanceUid || uidFromText(`study:${sop}`),
          date: m.studyDate,
          time: m.studyTime,
          description: m.studyDescription,
          accession: m.accessionNumber,
          institution: m.institutionName,
        },
        series: {
          uid: m.seriesInstanceUid || uidFromText(`series:${sop}`),
          modality: m.modality,
          number: m.seriesNumber,
          description: m.seriesDescription,
          bodyPart: m.bodyPart,
        },
        instance: { sopInstanceUid: sop, sopClassUid: m.sopClassUid, number: m.instanceNumber, transferSyntax: header.transferSyntaxUid },
        frameCount: header.numberOfFrames,
        rows: header.rows,
        columns: header.columns,
      };
    } else if (detectPhotoFormat(bytes)) {
      const image = await decodePhoto(bytes, source);
      // Photos have no UIDs: generate them from content (instance) and folder (study/series), so a
      // re-import finds the same UIDs and photos of one folder form one series.
      const folder = path.dirname(source);
      record = {
        source,
        sha256,
        size: bytes.byteLength,
        kind: 'photo',
        format: image.metadata.photoFormat ?? detectPhotoFormat(bytes) ?? 'photo',
        displayName: baseName(source),
        patient: {},
        study: { uid: uidFromText(`photo-study:${folder}`), description: path.basename(folder) },
        series: { uid: uidFromText(`photo-series:${folder}`), modality: 'XC', description: path.basename(folder) },
        instance: { sopInstanceUid: uidFromText(`photo:${sha256}`) },
        frameCount: 1,
        rows: image.rows,
        columns: image.columns,
      };
    } else if (IMAGE_EXTENSIONS.has(ext)) {
      return { kind: 'failed', reason: `not a readable DICOM or image file despite its ${ext} extension`, code: 'unreadable', sha256 };
    } else {
      return { kind: 'skipped', reason: 'not an image file' };
    }
  } catch (err) {
    if (err instanceof ImagingError) return { kind: 'failed', reason: err.reason, code: err.code, sha256 };
    return { kind: 'failed', reason: `cannot read: ${(err as Error).message}`, code: 'unreadable', sha256 };
  }
  if (writer.knowsSop(record.instance.sopInstanceUid)) return { kind: 'duplicate' };
  if (reference && candidate.filePath) record.externalPath = candidate.filePath;
  else writer.writeBlob(bytes, sha256);
  writer.reserve(record);
  return { kind: 'record', record };
}

/** Buffers records and writes them in batches, each one transaction after its blob files are durable. */
class ImportWriter {
  private readonly db: Database;
  private pending: ImportRecord[] = [];
  private failures: { failure: ImportFailure; sha256?: string }[] = [];
  private readonly pendingDirs = new Set<string>();
  private pendingWrites: Promise<string>[] = [];
  private readonly pendingShas = new Set<string>();
  private readonly pendingSops = new Set<string>();
  private readonly stmts;

  constructor(private readonly ws: ImportTarget) {
    this.db = ws.db;
    const db = this.db;
    this.stmts = {
      shaKnown: db.prepare('SELECT 1 FROM instances WHERE blob_sha256 = ? LIMIT 1'),
      sopKnown: db.prepare('SELECT 1 FROM instances WHERE sop_instance_uid = ?'),
      patient: db.prepare(
        `INSERT INTO patients (patient_key, patient_id, patient_name, birth_date, sex) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (patient_key) DO UPDATE SET patient_key = excluded.patient_key RETURNING id`,
      ),
      study: db.prepare(
        `INSERT INTO studies (patient_ref, study_uid, study_date, study_time, description, accession_number, institution)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (study_uid) DO UPDATE SET study_uid = excluded.study_uid RETURNING id`,
      ),
      series: db.prepare(
        `INSERT INTO series (study_ref, series_uid, modality, series_number, description, body_part) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (series_uid) DO UPDATE SET series_uid = excluded.series_uid RETURNING id`,
      ),
      instance: db.prepare(
        `INSERT INTO instances (series_ref, sop_instance_uid, sop_class_uid, instance_number, transfer_syntax, blob_sha256,
           source_path, format) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      kase: db.prepare(
        `INSERT INTO cases (instance_ref, kind, display_name, blob_sha256, frame_count, rows, columns, split, imported_at, search_text)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      quarantine: db.prepare(
        `INSERT INTO quarantine (source_path, sha256, code, reason, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET code = excluded.code, reason = excluded.reason, created_at = excluded.created_at`,
      ),
    };
  }

  get pendingCount(): number {
    return this.pending.length + this.failures.length;
  }

  knowsBytes(sha256: string): boolean {
    return this.pendingShas.has(sha256) || this.stmts.shaKnown.get(sha256) !== undefined;
  }

  knowsSop(uid: string): boolean {
    return this.pendingSops.has(uid) || this.stmts.sopKnown.get(uid) !== undefined;
  }

  /** Starts writing a blob file; `flush` waits for it before committing the rows that refer to it. */
  writeBlob(bytes: Uint8Array, sha256: string): void {
    const write = this.ws.blobs.writeFileAsync(bytes, sha256, this.pendingDirs);
    write.catch(() => undefined); // observed in flush; avoids an unhandled rejection in between
    this.pendingWrites.push(write);
  }

  reserve(record: ImportRecord): void {
    this.pendingShas.add(record.sha256);
    this.pendingSops.add(record.instance.sopInstanceUid);
  }

  add(record: ImportRecord): void {
    this.pending.push(record);
  }

  fail(failure: ImportFailure, sha256?: string): void {
    this.failures.push({ failure, sha256 });
  }

  /** Waits for the batch's blob files to be durable, then commits its rows; returns the new case ids. */
  async flush(ws: ImportTarget): Promise<number[]> {
    if (this.pendingCount === 0) return [];
    const writes = this.pendingWrites;
    this.pendingWrites = [];
    const results = await Promise.allSettled(writes);
    const failedWrite = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failedWrite) {
      throw new WorkspaceError('io', `Cannot write into ${ws.dir}: ${(failedWrite.reason as Error).message}`);
    }
    ws.blobs.syncDirs(this.pendingDirs);
    return this.commit();
  }

  /** Writes the pending rows (cases and quarantine entries) as one transaction. */
  commit(records?: ImportRecord[]): number[] {
    if (records) this.pending.push(...records);
    const now = new Date().toISOString();
    const ids = this.db.transaction(() => {
      const out: number[] = [];
      for (const r of this.pending) out.push(this.insert(r, now));
      for (const { failure, sha256 } of this.failures) {
        this.stmts.quarantine.run(failure.file, sha256 ?? null, failure.code, failure.reason, now);
      }
      return out;
    })();
    this.pending = [];
    this.failures = [];
    this.pendingShas.clear();
    this.pendingSops.clear();
    return ids;
  }

  private insert(r: ImportRecord, now: string): number {
    const s = this.stmts;
    this.ws.blobs.record({
      sha256: r.sha256,
      size: r.size,
      location: r.externalPath ? 'external' : 'workspace',
      externalPath: r.externalPath,
    });
    const p = r.patient;
    const patientKey = `${p.id ?? ''}\u0000${p.name ?? ''}`;
    const patientRef = (s.patient.get(patientKey, p.id ?? null, p.name ?? null, p.birthDate ?? null, p.sex ?? null) as { id: number }).id;
    const st = r.study;
    const studyRef = (
      s.study.get(patientRef, st.uid, st.date ?? null, st.time ?? null, st.description ?? null, st.accession ?? null, st.institution ?? null) as {
        id: number;
      }
    ).id;
    const se = r.series;
    const seriesRef = (
      s.series.get(studyRef, se.uid, se.modality ?? null, se.number ?? null, se.description ?? null, se.bodyPart ?? null) as { id: number }
    ).id;
    const i = r.instance;
    const instanceRef = Number(
      s.instance.run(seriesRef, i.sopInstanceUid, i.sopClassUid ?? null, i.number ?? null, i.transferSyntax ?? null, r.sha256, r.source, r.format)
        .lastInsertRowid,
    );
    const searchText = [r.displayName, p.id, p.name, st.date, se.modality, st.accession, st.description, se.description, i.sopInstanceUid, r.source]
      .filter(Boolean)
      .join(' ')
      .toLowerCase();
    return Number(
      s.kase.run(instanceRef, r.kind, r.displayName, r.sha256, r.frameCount, r.rows ?? null, r.columns ?? null, splitFor(i.sopInstanceUid), now, searchText)
        .lastInsertRowid,
    );
  }
}

/** Writes case rows for records whose blob files are already durable (Workspace.insertImportRecords). */
export function insertImportRecords(ws: ImportTarget, records: ImportRecord[]): number[] {
  return new ImportWriter(ws).commit(records);
}

/** Train/validation split fixed at import from a hash of the SOP Instance UID: 80 % train, 20 % val. */
export function splitFor(sopInstanceUid: string): 'train' | 'val' {
  const h = createHash('sha256').update(sopInstanceUid).digest();
  return h.readUInt32BE(0) % 100 < 80 ? 'train' : 'val';
}

/** A DICOM UID under the 2.25 root (ISO/IEC 9834-8): a name-based UUID (version 8 layout) as a decimal integer. */
export function uidFromText(text: string): string {
  const h = createHash('sha256').update(text).digest().subarray(0, 16);
  h[6] = (h[6] & 0x0f) | 0x80; // version 8 (custom, name-based)
  h[8] = (h[8] & 0x3f) | 0x80; // RFC 4122 variant
  return `2.25.${BigInt(`0x${h.toString('hex')}`).toString(10)}`;
}

function baseName(source: string): string {
  return source.split(/[\\/]|!\//).pop() || source;
}
