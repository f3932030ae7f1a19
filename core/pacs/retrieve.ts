import fs from 'node:fs';
import path from 'node:path';
import { DecodePool } from '../imaging';
import type { ImportFailure, Workspace } from '../store';
import type { PacsClient } from './client';
import { PacsError } from './errors';
import type { InstanceRef, RetrieveTarget } from './query';

export interface RetrieveProgress {
  phase: 'listing' | 'fetching';
  /** Instances fetched (or failed) so far in this run, of `total` missing ones. */
  done: number;
  total: number;
  current?: string;
}

export interface RetrieveOptions {
  /** The connection's name: retrieved cases record it (with study and series) as their origin. */
  connection?: string;
  /** Instances in flight at once (default 4). */
  concurrency?: number;
  /** Attempts after the first when the PACS does not answer or answers 5xx (default 3). */
  retries?: number;
  /** First back-off delay; it doubles on each retry (default 250 ms). */
  backoffMs?: number;
  /** Fetched files handed to the importer at once (default 20). */
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (p: RetrieveProgress) => void;
}

export interface RetrieveReport {
  /** Instances the PACS lists for the chosen studies / series. */
  listed: number;
  /** Of those, already in the workspace (not fetched again). */
  present: number;
  fetched: number;
  imported: number;
  duplicates: number;
  /** Objects the importer does not keep as cases (reports, structured documents without pixels). */
  skipped: number;
  /** Fetched but refused by the importer's checks (e.g. no pixel data): kept as quarantined cases, named in `failures`. */
  quarantined: number;
  /** Instances that could not be fetched from the PACS (named in `failures`); a later run tries them again. */
  failed: number;
  failures: ImportFailure[];
  caseIds: number[];
  cancelled: boolean;
  /** Why the transfer stopped early (the PACS went away); running it again resumes. */
  interrupted?: string;
}

/** Where fetched files wait for the importer; inside the workspace so a rename never crosses disks. */
export const STAGING_DIR = 'pacs-incoming';

/**
 * Brings chosen studies or series into a workspace: lists their instances, skips every SOP Instance UID
 * the workspace already holds, fetches the rest with bounded concurrency and retries, and hands them to
 * the workspace importer in batches (de-duplication, quarantine). Whatever was imported stays when the
 * process is killed or the PACS goes away; running it again fetches only what is missing.
 */
export async function retrieve(ws: Workspace, client: PacsClient, targets: RetrieveTarget[], opts: RetrieveOptions = {}): Promise<RetrieveReport> {
  const report: RetrieveReport = { listed: 0, present: 0, fetched: 0, imported: 0, duplicates: 0, skipped: 0, quarantined: 0, failed: 0, failures: [], caseIds: [], cancelled: false };
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const batchSize = Math.max(1, opts.batchSize ?? 20);
  const retry = { retries: opts.retries ?? 3, backoffMs: opts.backoffMs ?? 250, signal: opts.signal };

  const listed = new Map<string, InstanceRef>();
  for (const t of targets) {
    opts.onProgress?.({ phase: 'listing', done: 0, total: 0, current: t.seriesUid ?? t.studyUid });
    for (const ref of await withRetries(() => client.listInstances(t.studyUid, t.seriesUid, opts.signal), retry)) listed.set(ref.sopInstanceUid, ref);
  }
  report.listed = listed.size;
  const missing = [...listed.values()].filter((r) => ws.cases.idBySopInstanceUid(r.sopInstanceUid) === undefined);
  report.present = report.listed - missing.length;

  const staging = path.join(ws.dir, STAGING_DIR);
  // Leftovers of a killed run may be half written; they are listed as missing again anyway.
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });

  let decodePool: DecodePool | undefined;
  let staged: string[] = [];
  const refOfFile = new Map<string, InstanceRef>();
  let importing = Promise.resolve();
  const importStaged = () => {
    const files = staged;
    staged = [];
    if (files.length === 0) return importing;
    // One import at a time: they share the workspace's connection and its transactions.
    importing = importing.then(async () => {
      // One decode pool for the whole retrieve: a pool per batch would start its workers 25 times for 500 instances.
      decodePool ??= new DecodePool();
      const r = await ws.import(files, { decodePool });
      report.imported += r.imported;
      report.duplicates += r.duplicates;
      report.skipped += r.skipped;
      report.quarantined += r.failed;
      report.failures.push(...r.failures);
      report.caseIds.push(...r.caseIds);
      for (const f of files) {
        const ref = refOfFile.get(f)!;
        refOfFile.delete(f);
        if (opts.connection) recordOrigin(ws, opts.connection, ref, f);
        fs.rmSync(f, { force: true });
      }
    });
    return importing;
  };

  let next = 0;
  let done = 0;
  let stop: string | undefined;
  const worker = async () => {
    while (next < missing.length && !stop) {
      if (opts.signal?.aborted) {
        report.cancelled = true;
        return;
      }
      const ref = missing[next++];
      try {
        const bytes = await withRetries(() => client.fetchInstance(ref, opts.signal), retry);
        const file = path.join(staging, `${ref.sopInstanceUid}.dcm`);
        fs.writeFileSync(`${file}.part`, bytes);
        fs.renameSync(`${file}.part`, file);
        report.fetched++;
        refOfFile.set(file, ref);
        staged.push(file);
        if (staged.length >= batchSize) await importStaged();
      } catch (err) {
        if (err instanceof PacsError && err.code === 'cancelled') {
          report.cancelled = true;
          return;
        }
        // Failures that would repeat for every instance end the run; a later run resumes.
        if (err instanceof PacsError && (err.code === 'unreachable' || err.code === 'auth' || err.code === 'bad-config')) {
          stop = err.message;
          return;
        }
        report.failed++;
        report.failures.push({ file: ref.sopInstanceUid, reason: (err as Error).message, code: err instanceof PacsError ? err.code : 'fetch' });
      }
      opts.onProgress?.({ phase: 'fetching', done: ++done, total: missing.length, current: ref.sopInstanceUid });
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, missing.length) }, worker));
    await importStaged();
    await importing;
  } finally {
    await (decodePool as DecodePool | undefined)?.close();
  }
  fs.rmSync(staging, { recursive: true, force: true });
  if (stop) report.interrupted = `${stop}; ${missing.length - done} of ${missing.length} instances not fetched — run the retrieve again to resume`;
  return report;
}

/**
 * Notes where a case came from; a case made from the staged file now is named after its origin
 * (`orthanc · CT CHEST · series 2 · #14`) instead of the staged file, which is deleted.
 */
function recordOrigin(ws: Workspace, connection: string, ref: InstanceRef, stagedPath: string): void {
  const caseId = ws.cases.idBySopInstanceUid(ref.sopInstanceUid);
  if (caseId === undefined) return;
  const c = ws.cases.get(caseId);
  const short = (uid: string) => `…${uid.slice(-8)}`;
  const series = c.seriesDescription ?? (c.seriesNumber !== undefined ? `series ${c.seriesNumber}` : `series ${short(ref.seriesUid)}`);
  const displayName = [connection, c.studyDescription ?? `study ${short(ref.studyUid)}`, series, c.instanceNumber !== undefined ? `#${c.instanceNumber}` : short(ref.sopInstanceUid)].join(' · ');
  const sourceUri = `pacs://${connection}/studies/${ref.studyUid}/series/${ref.seriesUid}/instances/${ref.sopInstanceUid}`;
  ws.pacsOrigins.record(caseId, { connection, studyUid: ref.studyUid, seriesUid: ref.seriesUid }, { path: stagedPath, displayName, sourceUri });
}

/** Runs `fn`, retrying with exponential back-off while the PACS is unreachable or failing (5xx). */
export async function withRetries<T>(fn: () => Promise<T>, o: { retries: number; backoffMs: number; signal?: AbortSignal }): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const transient = err instanceof PacsError && err.code === 'unreachable';
      if (!transient || attempt >= o.retries || o.signal?.aborted) throw err;
      await new Promise((r) => setTimeout(r, o.backoffMs * 2 ** attempt));
    }
  }
}
