import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Database, Statement } from 'better-sqlite3';
import { DecodePool, describeFailure, type ImageCheck } from '../imaging';
import { sha256Hex } from './blobs';
import { WorkspaceError } from './errors';
import { listImportInputs, type ImportCandidate } from './import-sources';
import { lateralityFromDicom, lateralityFromName } from './scope';
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
  /** Where files are decoded to check their pixels; default: a pool made for this import and closed after it. */
  decodePool?: DecodePool;
  /** Milliseconds one file's check may take before it counts as undecodable (default 60 000). */
  fileTimeoutMs?: number;
}

export interface ImportFailure {
  /** The file as given to the import (a path, or `archive.zip!/entry`), never a blob path. */
  file: string;
  /** A sentence saying why. */
  reason: string;
  code: string;
  /** The quarantined case that keeps the file's bytes (absent when there were none to keep, e.g. a missing file). */
  caseId?: number;
}

export interface ImportReport {
  /** Files considered (after expanding folders, archives and DICOMDIRs). */
  total: number;
  imported: number;
  /**
   * Same SOP Instance UID (and decodable) or same bytes as a case already in the workspace (or earlier in this
   * import); the file's path is kept as an alias of that case.
   */
  duplicates: number;
  /** Not images (.json, .md, DICOMDIR, DICOM SR or other objects without pixel data). */
  skipped: number;
  /** Files quarantined: undecodable (kept as quarantined cases) or unreadable. */
  failed: number;
  failures: ImportFailure[];
  skippedFiles: { file: string; reason: string }[];
  /** The new decodable cases. */
  caseIds: number[];
  /** The new quarantined cases (files that cannot be decoded; the Quarantine filter of the worklist lists them). */
  quarantinedCaseIds: number[];
  cancelled: boolean;
}

/** Extensions that promise an image: a file with one that cannot be read is a failure, not a skip. */
const IMAGE_EXTENSIONS = new Set(['.dcm', '.dicom', '.dic', '.ima', '.jpg', '.jpeg', '.png', '.tif', '.tiff', '.gif']);
const DICOM_EXTENSIONS = new Set(['.dcm', '.dicom', '.dic', '.ima']);
const DEFAULT_FILE_TIMEOUT_MS = 60_000;

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
  /** The decoded image is in colour (three samples per pixel); absent when not known. */
  colour?: boolean;
  laterality?: 'left' | 'right' | 'both';
  /** Set for a file that cannot be decoded: the case is created quarantined, with this code and reason. */
  quarantine?: { code: string; reason: string };
}

/** A file read and hashed, waiting for its check in the decode pool. */
interface Staged {
  candidate: ImportCandidate;
  bytes?: Buffer;
  sha256?: string;
  /** Decided without a check: unreadable, or bytes already in the workspace. */
  early?: { kind: 'failed'; reason: string; code: string } | { kind: 'duplicate-bytes' };
  /** Same bytes as an earlier file of this import: that file's outcome decides this one's. */
  sameAsEarlier?: boolean;
  check?: Promise<ImageCheck>;
}

/**
 * Imports files into a workspace: copies (or references) them by SHA-256, builds the DICOM hierarchy and one case
 * per image, de-duplicates by bytes and by SOP Instance UID (keeping each duplicate's path as an alias), and checks
 * every image's pixels in the decode pool, several files at a time: a file that cannot be decoded becomes a
 * quarantined case, named by its original path, with the reason. Files are settled in order; batches commit as one
 * transaction after their blobs are durable, so an interrupted import leaves only whole cases and running it again
 * completes it.
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
    quarantinedCaseIds: [],
    cancelled: false,
  };
  const writer = new ImportWriter(ws);
  const batchSize = Math.max(1, opts.batchSize ?? 100);
  const timeoutMs = opts.fileTimeoutMs ?? DEFAULT_FILE_TIMEOUT_MS;
  const pool = opts.decodePool ?? new DecodePool();
  // Enough files in flight to keep every worker busy while the next ones are read; bounded to cap memory.
  const window = Math.max(2, pool.size * 2);
  const seenShas = new Set<string>();
  /** Why the first file with these bytes was skipped, for later copies of it. */
  const skippedShas = new Map<string, string>();
  /** The SOP Instance UID of a case the first file with these bytes duplicated, for later copies of it. */
  const sopDuplicateShas = new Map<string, string>();
  /** Copies of quarantined files: reported as failures, recorded as aliases of the quarantined case. */
  const aliasFailures = new Set<string>();
  /** Why the first file with these bytes was quarantined, for later copies of it. */
  const quarantinedShas = new Map<string, { code: string; reason: string }>();
  let done = 0;
  const progress = (current: string) => opts.onProgress?.({ done: ++done, total: report.total, current });
  const fail = (failure: ImportFailure) => {
    writer.fail(failure);
    report.failed++;
    report.failures.push(failure);
  };
  const skip = (file: string, reason: string) => {
    report.skipped++;
    report.skippedFiles.push({ file, reason });
  };

  const stage = async (candidate: ImportCandidate): Promise<Staged> => {
    let bytes: Buffer;
    try {
      bytes = await candidate.read();
    } catch (err) {
      return { candidate, early: { kind: 'failed', reason: `cannot read the file: ${describeFailure(err)}`, code: 'unreadable' } };
    }
    const sha256 = sha256Hex(bytes);
    if (writer.knowsBytes(sha256)) return { candidate, sha256, early: { kind: 'duplicate-bytes' } };
    if (seenShas.has(sha256)) return { candidate, sha256, sameAsEarlier: true };
    seenShas.add(sha256);
    const check = pool.verifyBytes(bytes, candidate.source, { signal: opts.signal, timeoutMs });
    check.catch(() => undefined); // observed in settle; avoids an unhandled rejection in between
    return { candidate, bytes, sha256, check };
  };

  const settle = async (staged: Staged): Promise<void> => {
    const { candidate } = staged;
    const source = candidate.source;
    if (staged.early?.kind === 'failed') return fail({ file: source, reason: staged.early.reason, code: staged.early.code });
    const sha256 = staged.sha256!;
    if (staged.early?.kind === 'duplicate-bytes' || staged.sameAsEarlier) {
      const skippedAs = skippedShas.get(sha256);
      if (skippedAs !== undefined) return skip(source, skippedAs);
      const sop = sopDuplicateShas.get(sha256);
      writer.alias(sop !== undefined ? { source, sha256, bySop: sop } : { source, sha256, bySha: sha256 });
      // A copy of a quarantined file is reported as quarantined too (its path is kept as an alias of that case).
      const quarantined = quarantinedShas.get(sha256) ?? writer.storedQuarantine(sha256);
      if (quarantined) {
        aliasFailures.add(source);
        report.failed++;
        report.failures.push({ file: source, ...quarantined });
      } else {
        report.duplicates++;
      }
      return;
    }
    let check: ImageCheck;
    try {
      check = await staged.check!;
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      check = { status: 'broken', reason: describeFailure(err), code: 'corrupt' };
    }
    const ext = path.extname(source).toLowerCase();
    if (check.status === 'not-image') {
      if (check.kind === 'dicom' || !IMAGE_EXTENSIONS.has(ext)) {
        skippedShas.set(sha256, check.reason);
        return skip(source, check.reason);
      }
      check = { status: 'broken', reason: `not a readable DICOM or image file despite its ${ext} extension`, code: 'unreadable' };
    }
    const record = recordFor(check, source, staged.bytes!.byteLength, sha256);
    if (!record.quarantine && writer.knowsSop(record.instance.sopInstanceUid)) {
      writer.alias({ source, sha256, bySop: record.instance.sopInstanceUid });
      sopDuplicateShas.set(sha256, record.instance.sopInstanceUid);
      report.duplicates++;
      return;
    }
    if (opts.reference === true && candidate.filePath) record.externalPath = candidate.filePath;
    else writer.writeBlob(staged.bytes!, sha256);
    writer.reserve(record);
    writer.add(record);
    if (record.quarantine) {
      quarantinedShas.set(sha256, record.quarantine);
      report.failed++;
      report.failures.push({ file: source, ...record.quarantine });
    }
  };

  const inFlight: Promise<Staged>[] = [];
  // Files are read one after another, in order, so the first of several identical files is the one checked.
  let reading: Promise<unknown> = Promise.resolve();
  /** Settles the oldest file in flight; false once the import is cancelled (that file is dropped). */
  const settleOldest = async (): Promise<boolean> => {
    const staged = await inFlight.shift()!;
    if (opts.signal?.aborted) return false;
    await settle(staged);
    progress(staged.candidate.source);
    if (writer.pendingCount >= batchSize) collect(report, await writer.flush(ws));
    return true;
  };
  try {
    for (const p of listing.problems) {
      fail({ file: p.source, reason: p.reason, code: 'missing' });
      progress(p.source);
    }
    try {
      for (const candidate of listing.candidates) {
        if (opts.signal?.aborted) break;
        const staged = reading.then(() => stage(candidate));
        reading = staged;
        inFlight.push(staged);
        if (inFlight.length >= window && !(await settleOldest())) break;
      }
      while (inFlight.length > 0 && (await settleOldest()));
    } catch (err) {
      if (!opts.signal?.aborted) throw err;
    }
    // Cancelling stops between files: what was settled before is committed, the files in flight are dropped.
    report.cancelled = opts.signal?.aborted === true;
    collect(report, await writer.flush(ws));
  } finally {
    listing.close();
    await Promise.allSettled(inFlight);
    if (!opts.decodePool) await pool.close();
  }
  report.imported = report.caseIds.length;
  for (const f of report.failures) {
    const caseId = writer.quarantinedCases.get(f.file) ?? (aliasFailures.has(f.file) ? writer.aliasedCase(f.file) : undefined);
    if (caseId !== undefined) f.caseId = caseId;
  }
  return report;
}

function collect(report: ImportReport, ids: CommittedIds): void {
  report.caseIds.push(...ids.caseIds);
  report.quarantinedCaseIds.push(...ids.quarantinedCaseIds);
}

/** The rows for one checked file: a decodable case, or a quarantined one that keeps the file and says why. */
function recordFor(check: Exclude<ImageCheck, { status: 'not-image' }>, source: string, size: number, sha256: string): ImportRecord {
  const ext = path.extname(source).toLowerCase();
  const kind = check.kind ?? (DICOM_EXTENSIONS.has(ext) ? 'dicom' : 'photo');
  const m = check.metadata ?? {};
  let sop: string;
  let study: ImportRecord['study'];
  let series: ImportRecord['series'];
  if (kind === 'photo') {
    // Photos have no UIDs: generate them from content (instance) and folder (study/series), so a
    // re-import finds the same UIDs and photos of one folder form one series.
    const folder = path.dirname(source);
    sop = uidFromText(`photo:${sha256}`);
    study = { uid: uidFromText(`photo-study:${folder}`), description: path.basename(folder) };
    series = { uid: uidFromText(`photo-series:${folder}`), modality: 'XC', description: path.basename(folder) };
  } else {
    // Malformed files may lack UIDs: derive stable ones from the bytes so re-imports still de-duplicate.
    sop = m.sopInstanceUid || uidFromText(`sop:${sha256}`);
    study = {
      uid: m.studyInstanceUid || uidFromText(`study:${sop}`),
      date: m.studyDate,
      time: m.studyTime,
      description: m.studyDescription,
      accession: m.accessionNumber,
      institution: m.institutionName,
    };
    series = {
      uid: m.seriesInstanceUid || uidFromText(`series:${sop}`),
      modality: m.modality,
      number: m.seriesNumber,
      description: m.seriesDescription,
      bodyPart: m.bodyPart,
    };
  }
  // Photos state a side only in their file name; DICOM in (Image) Laterality.
  const side = kind === 'photo' ? lateralityFromName(baseName(source)) : lateralityFromDicom(m.laterality);
  // A quarantined case never claims the SOP Instance UID: a good copy of the same instance can still come in.
  const instanceUid = check.status === 'broken' ? uidFromText(`quarantined:${sha256}`) : sop;
  return {
    source,
    sha256,
    size,
    kind,
    format: check.format ?? (kind === 'dicom' ? 'dicom' : 'unknown'),
    displayName: baseName(source),
    patient: { id: m.patientId, name: m.patientName, birthDate: m.patientBirthDate, sex: m.patientSex },
    study,
    series,
    instance: { sopInstanceUid: instanceUid, sopClassUid: m.sopClassUid, number: m.instanceNumber, transferSyntax: check.transferSyntaxUid },
    frameCount: Math.max(1, check.frameCount ?? 1),
    rows: check.rows,
    columns: check.columns,
    ...(check.status === 'image' ? { colour: check.samplesPerPixel >= 3 } : {}),
    ...(side ? { laterality: side } : {}),
    ...(check.status === 'broken' ? { quarantine: { code: check.code, reason: check.reason } } : {}),
  };
}

/** Another path a case's file was imported under, resolved to the case when its batch commits. */
interface PendingAlias {
  source: string;
  sha256: string;
  /** The case is the one holding these bytes … */
  bySha?: string;
  /** … or the one with this SOP Instance UID. */
  bySop?: string;
}

interface CommittedIds {
  caseIds: number[];
  quarantinedCaseIds: number[];
}

/** Buffers records and writes them in batches, each one transaction after its blob files are durable. */
class ImportWriter {
  private readonly db: Database;
  private pending: ImportRecord[] = [];
  private failures: ImportFailure[] = [];
  private aliases: PendingAlias[] = [];
  /** Quarantined cases made by this writer, by the file they came from. */
  readonly quarantinedCases = new Map<string, number>();
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
      // The facts a task scope selects on (schema V8); a workspace built with older migrations (their tests) lacks them.
      scopeFacts: (db.prepare(`SELECT 1 FROM pragma_table_info('cases') WHERE name = 'colour'`).get()
        ? db.prepare('UPDATE cases SET colour = ?, laterality = ? WHERE id = ?')
        : undefined) as Statement | undefined,
      quarantine: db.prepare(
        `INSERT INTO quarantine (source_path, sha256, case_id, code, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET case_id = ifnull(excluded.case_id, case_id), code = excluded.code, reason = excluded.reason,
           created_at = excluded.created_at`,
      ),
      quarantineOfBytes: db.prepare(
        `SELECT q.code, q.reason FROM quarantine q JOIN cases c ON c.id = q.case_id WHERE c.blob_sha256 = ? ORDER BY q.id DESC LIMIT 1`,
      ),
      caseBySha: db.prepare('SELECT id FROM cases WHERE blob_sha256 = ? ORDER BY id LIMIT 1'),
      caseBySop: db.prepare('SELECT c.id FROM cases c JOIN instances i ON i.id = c.instance_ref WHERE i.sop_instance_uid = ?'),
      ownPath: db.prepare('SELECT 1 FROM cases c JOIN instances i ON i.id = c.instance_ref WHERE c.id = ? AND i.source_path = ?'),
      // The worklist search finds a case by every name its file came under.
      aliasSearch: db.prepare(`UPDATE cases SET search_text = search_text || ' ' || ? WHERE id = ?`),
    };
  }

  get pendingCount(): number {
    return this.pending.length + this.failures.length + this.aliases.length;
  }

  knowsBytes(sha256: string): boolean {
    return this.pendingShas.has(sha256) || this.stmts.shaKnown.get(sha256) !== undefined;
  }

  /** Why the stored case holding these bytes is quarantined, if it is. */
  storedQuarantine(sha256: string): { code: string; reason: string } | undefined {
    return this.stmts.quarantineOfBytes.get(sha256) as { code: string; reason: string } | undefined;
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

  /** A file that left nothing to keep (missing, unreadable): a quarantine row without a case. */
  fail(failure: ImportFailure): void {
    this.failures.push(failure);
  }

  /** Another path of a case's file; written with the batch, once the case it names exists. */
  alias(alias: PendingAlias): void {
    this.aliases.push(alias);
  }

  /** Waits for the batch's blob files to be durable, then commits its rows; returns the new case ids. */
  async flush(ws: ImportTarget): Promise<CommittedIds> {
    if (this.pendingCount === 0) return { caseIds: [], quarantinedCaseIds: [] };
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

  /** Writes the pending rows (cases, quarantine entries, aliases) as one transaction. */
  commit(records?: ImportRecord[]): CommittedIds & { ids: number[] } {
    if (records) this.pending.push(...records);
    const now = new Date().toISOString();
    const out = this.db.transaction(() => {
      const committed: CommittedIds & { ids: number[] } = { ids: [], caseIds: [], quarantinedCaseIds: [] };
      for (const r of this.pending) {
        const id = this.insert(r, now);
        committed.ids.push(id);
        if (r.quarantine) {
          this.stmts.quarantine.run(r.source, r.sha256, id, r.quarantine.code, r.quarantine.reason, now);
          committed.quarantinedCaseIds.push(id);
          this.quarantinedCases.set(r.source, id);
        } else {
          committed.caseIds.push(id);
        }
      }
      for (const f of this.failures) this.stmts.quarantine.run(f.file, null, null, f.code, f.reason, now);
      for (const a of this.aliases) this.insertAlias(a, now);
      return committed;
    })();
    this.pending = [];
    this.failures = [];
    this.aliases = [];
    this.pendingShas.clear();
    this.pendingSops.clear();
    return out;
  }

  /** The case a path was recorded as an alias of. */
  aliasedCase(source: string): number | undefined {
    return (this.aliasStmts.find.get(source) as { id: number } | undefined)?.id;
  }

  // Prepared on first use: tests build older-schema workspaces (without case_aliases) through this writer.
  private aliasStatements?: { find: Statement; insert: Statement };
  private get aliasStmts(): { find: Statement; insert: Statement } {
    this.aliasStatements ??= {
      find: this.db.prepare('SELECT case_id AS id FROM case_aliases WHERE source_path = ? ORDER BY id DESC LIMIT 1'),
      insert: this.db.prepare(
        `INSERT INTO case_aliases (case_id, source_path, base_name, sha256, imported_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (case_id, source_path) DO NOTHING`,
      ),
    };
    return this.aliasStatements;
  }

  private insertAlias(a: PendingAlias, now: string): void {
    const target = (a.bySop !== undefined ? this.stmts.caseBySop.get(a.bySop) : this.stmts.caseBySha.get(a.bySha)) as { id: number } | undefined;
    // Re-importing a file under the path it already has is not an alias.
    if (!target || this.stmts.ownPath.get(target.id, a.source)) return;
    const base = baseName(a.source);
    if (this.aliasStmts.insert.run(target.id, a.source, base, a.sha256, now).changes > 0) {
      this.stmts.aliasSearch.run(`${base} ${a.source}`.toLowerCase(), target.id);
    }
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
    const caseId = Number(
      s.kase.run(instanceRef, r.kind, r.displayName, r.sha256, r.frameCount, r.rows ?? null, r.columns ?? null, splitFor(i.sopInstanceUid), now, searchText)
        .lastInsertRowid,
    );
    if (s.scopeFacts && (r.colour !== undefined || r.laterality)) {
      s.scopeFacts.run(r.colour === undefined ? null : r.colour ? 1 : 0, r.laterality ?? null, caseId);
    }
    return caseId;
  }
}

/** Writes case rows for records whose blob files are already durable (Workspace.insertImportRecords). */
export function insertImportRecords(ws: ImportTarget, records: ImportRecord[]): number[] {
  return new ImportWriter(ws).commit(records).ids;
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
