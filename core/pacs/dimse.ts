import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import dimse from 'dcmjs-dimse';
import type { PacsClient } from './client';
import type { DimseConfig } from './connection';
import { PacsError } from './errors';
import { matchingKeys, type InstanceRef, type SeriesResult, type StudyQuery, type StudyResult } from './query';
import { part10FromReceived } from './part10';
import { StoreScp } from './store-scp';

const { Client } = dimse;
const { CEchoRequest, CFindRequest, CGetRequest, CMoveRequest, CStoreRequest } = dimse.requests;
const { CStoreResponse } = dimse.responses;
const { Status, TransferSyntax } = dimse.constants;
const { PresentationContext } = dimse.association;
type Request = InstanceType<typeof dimse.requests.Request>;
type DimseDataset = InstanceType<typeof dimse.Dataset>;

// Both libraries log every private tag they cannot name to the console; a PACS transfer is not the place.
// dcmjs-dimse loads dcmjs's CommonJS build, a separate copy (and logger) from the ES module one.
dimse.log.setLevel('error');
(createRequire(import.meta.url)('dcmjs') as { log: { setLevel(l: string): void } }).log.setLevel('error');

/** Transfer syntaxes C-GET also proposes, so compressed instances come back as stored. */
const STORED_SYNTAXES = [
  TransferSyntax.RleLossless,
  TransferSyntax.JpegBaseline,
  '1.2.840.10008.1.2.4.51', // JPEG Extended
  '1.2.840.10008.1.2.4.57', // JPEG Lossless, non-hierarchical (process 14)
  TransferSyntax.JpegLossless,
  TransferSyntax.JpegLsLossless,
  TransferSyntax.JpegLsLossy,
  TransferSyntax.Jpeg2000Lossless,
  TransferSyntax.Jpeg2000Lossy,
  // Not deflate or big endian: dcmjs-dimse would write them out again wrongly; the PACS converts those.
];

/** C-MOVE status "Refused: Move Destination unknown". */
const MOVE_DESTINATION_UNKNOWN = 0xa801;

const TIMEOUTS = { connectTimeout: 5000, associationTimeout: 10000, pduTimeout: 30000 };

/** How instances come in: C-GET on our own association, or C-MOVE to our storage SCP. */
export type DimseRetrieve = 'c-get' | 'c-move';

/**
 * DIMSE (C-ECHO, C-FIND, C-GET or C-MOVE, C-STORE) through dcmjs-dimse. Each operation opens its own
 * association, so a failure affects one request and concurrent fetches do not share state. For C-MOVE
 * one storage SCP (store-scp.ts) listens on our port while the client is open; `close()` stops it.
 */
export class DimseClient implements PacsClient {
  readonly protocol = 'dimse' as const;
  readonly retrieveWith: DimseRetrieve;
  private scp?: Promise<StoreScp>;

  /** C-MOVE when the connection has a port of ours to move to, else C-GET (unless `retrieveWith` says). */
  constructor(
    private readonly config: DimseConfig,
    retrieveWith?: DimseRetrieve,
  ) {
    this.retrieveWith = retrieveWith ?? (config.listenPort ? 'c-move' : 'c-get');
    if (this.retrieveWith === 'c-move' && !config.listenPort) {
      throw new PacsError('bad-config', `C-MOVE needs our own port (the connection's listen port) where ${config.aet} can send the instances`);
    }
  }

  async close(): Promise<void> {
    const scp = this.scp;
    this.scp = undefined;
    if (scp) (await scp.catch(() => undefined))?.close();
  }

  async echo(signal?: AbortSignal): Promise<void> {
    const req = new CEchoRequest();
    let ok = false;
    req.on('response', (res: { getStatus(): number }) => (ok = res.getStatus() === Status.Success));
    await this.send([req], signal);
    if (!ok) throw new PacsError('protocol', `${this.peer()}: C-ECHO did not succeed`);
  }

  async findStudies(q: StudyQuery, signal?: AbortSignal): Promise<StudyResult[]> {
    const keys = { PatientName: '', PatientID: '', StudyDate: '', AccessionNumber: '', StudyDescription: '', ModalitiesInStudy: '', NumberOfStudyRelatedSeries: '', NumberOfStudyRelatedInstances: '', ...matchingKeys(q) };
    const rows = await this.find(CFindRequest.createStudyFindRequest(keys), signal);
    const studies = rows.map((e) => ({
      studyUid: text(e.StudyInstanceUID) ?? '',
      patientId: text(e.PatientID),
      patientName: personName(e.PatientName),
      studyDate: text(e.StudyDate),
      accessionNumber: text(e.AccessionNumber),
      description: text(e.StudyDescription),
      modalities: list(e.ModalitiesInStudy),
      seriesCount: numberOf(e.NumberOfStudyRelatedSeries),
      instanceCount: numberOf(e.NumberOfStudyRelatedInstances),
    }));
    return q.limit ? studies.slice(0, q.limit) : studies;
  }

  async findSeries(studyUid: string, signal?: AbortSignal): Promise<SeriesResult[]> {
    const req = CFindRequest.createSeriesFindRequest({ StudyInstanceUID: studyUid, SeriesInstanceUID: '', Modality: '', SeriesNumber: '', SeriesDescription: '', NumberOfSeriesRelatedInstances: '' });
    return (await this.find(req, signal)).map((e) => ({
      studyUid,
      seriesUid: text(e.SeriesInstanceUID) ?? '',
      modality: text(e.Modality),
      seriesNumber: numberOf(e.SeriesNumber),
      description: text(e.SeriesDescription),
      instanceCount: numberOf(e.NumberOfSeriesRelatedInstances),
    }));
  }

  async listInstances(studyUid: string, seriesUid?: string, signal?: AbortSignal): Promise<InstanceRef[]> {
    const series = seriesUid ? [seriesUid] : (await this.findSeries(studyUid, signal)).map((s) => s.seriesUid);
    const out: InstanceRef[] = [];
    for (const s of series) {
      const req = CFindRequest.createImageFindRequest({ StudyInstanceUID: studyUid, SeriesInstanceUID: s, SOPInstanceUID: '', SOPClassUID: '' });
      for (const e of await this.find(req, signal)) out.push({ studyUid, seriesUid: s, sopInstanceUid: text(e.SOPInstanceUID) ?? '', sopClassUid: text(e.SOPClassUID) });
    }
    return out;
  }

  async fetchInstance(ref: InstanceRef, signal?: AbortSignal): Promise<Buffer> {
    return this.retrieveWith === 'c-move' ? this.moveInstance(ref, signal) : this.getInstance(ref, signal);
  }

  private async getInstance(ref: InstanceRef, signal?: AbortSignal): Promise<Buffer> {
    const req = CGetRequest.createImageGetRequest(ref.studyUid, ref.seriesUid, ref.sopInstanceUid);
    let received: DimseDataset | undefined;
    let status: number | undefined;
    req.on('response', (res: { getStatus(): number }) => (status = res.getStatus()));
    await this.send([req], signal, (client) => {
      // dcmjs-dimse's C-GET proposes a fixed list of storage classes, uncompressed only. Propose this
      // instance's own class (RT, SEG, retired ones…), uncompressed and, one context each (a context takes
      // one syntax), in the compressed syntaxes a PACS may hold it in and not be able to transcode.
      if (ref.sopClassUid) {
        const plain = new PresentationContext(0, ref.sopClassUid, TransferSyntax.ExplicitVRLittleEndian);
        plain.addTransferSyntaxUid(TransferSyntax.ImplicitVRLittleEndian);
        client.addAdditionalPresentationContext(plain, false);
        for (const ts of STORED_SYNTAXES) client.addAdditionalPresentationContext(new PresentationContext(0, ref.sopClassUid, ts), true);
      }
      client.on('cStoreRequest', (storeReq: { getDataset(): DimseDataset | undefined }, callback: (r: unknown) => void) => {
        received = storeReq.getDataset();
        const res = CStoreResponse.fromRequest(storeReq as never);
        res.setStatus(Status.Success);
        callback(res);
      });
    });
    if (!received) throw new PacsError(status === Status.Success ? 'not-found' : 'protocol', `${this.peer()}: C-GET of ${ref.sopInstanceUid} returned no instance (status 0x${(status ?? 0).toString(16)})`);
    return await part10(received);
  }

  /** Asks the peer to move one instance to our storage SCP and waits for it (the PACS stores before it answers). */
  private async moveInstance(ref: InstanceRef, signal?: AbortSignal): Promise<Buffer> {
    const ourAet = this.config.callingAet;
    this.scp ??= StoreScp.start({ port: this.config.listenPort!, ourAet, peerAet: this.config.aet });
    const arrival = (await this.scp).expect(ref.sopInstanceUid);
    try {
      const req = CMoveRequest.createImageMoveRequest(ourAet, ref.studyUid, ref.seriesUid, ref.sopInstanceUid);
      let status: number | undefined;
      req.on('response', (res: { getStatus(): number }) => {
        if (res.getStatus() !== Status.Pending) status = res.getStatus();
      });
      await this.send([req], signal);
      const received = arrival.take();
      if (received) return await part10(received);
      if (status === MOVE_DESTINATION_UNKNOWN) {
        throw new PacsError('bad-config', `${this.peer()} does not know ${ourAet} as a move destination (status 0xa801): add ${ourAet} with this computer's address and port ${this.config.listenPort} to its DICOM modalities`);
      }
      throw new PacsError(status === Status.Success ? 'not-found' : 'protocol', `${this.peer()}: C-MOVE of ${ref.sopInstanceUid} to ${ourAet} delivered no instance (status 0x${(status ?? 0).toString(16)})`);
    } finally {
      arrival.release();
    }
  }

  async store(files: Buffer[], signal?: AbortSignal): Promise<void> {
    const failures: string[] = [];
    // dcmjs-dimse reads Part 10 input from files (its Dataset(buffer) expects a bare data set).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-cstore-'));
    try {
      const requests = files.map((f, i) => {
        const file = path.join(dir, `${i}.dcm`);
        fs.writeFileSync(file, f);
        const req = new CStoreRequest(file);
        req.on('response', (res: { getStatus(): number; getErrorComment(): string }) => {
          if (res.getStatus() !== Status.Success) failures.push(`0x${res.getStatus().toString(16)} ${res.getErrorComment() ?? ''}`.trim());
        });
        return req;
      });
      await this.send(requests, signal);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    if (failures.length > 0) throw new PacsError('rejected', `${this.peer()}: C-STORE refused ${failures.length} of ${files.length} objects (${failures[0]})`);
  }

  private async find(req: Request, signal?: AbortSignal): Promise<Record<string, unknown>[]> {
    const rows: Record<string, unknown>[] = [];
    let failed: number | undefined;
    req.on('response', (res: { getStatus(): number; hasDataset(): boolean; getDataset(): DimseDataset }) => {
      if (res.getStatus() === Status.Pending && res.hasDataset()) rows.push(res.getDataset().getElements());
      else if (res.getStatus() !== Status.Success && res.getStatus() !== Status.Pending) failed = res.getStatus();
    });
    await this.send([req], signal);
    if (failed !== undefined) throw new PacsError('protocol', `${this.peer()}: C-FIND failed with status 0x${failed.toString(16)}`);
    return rows;
  }

  /** Runs requests on one association; resolves when it closes, rejects with a clear reason. */
  private send(requests: Request[], signal?: AbortSignal, setup?: (c: InstanceType<typeof Client>) => void): Promise<void> {
    if (signal?.aborted) return Promise.reject(new PacsError('cancelled', 'cancelled'));
    return new Promise((resolve, reject) => {
      const client = new Client();
      for (const r of requests) client.addRequest(r);
      setup?.(client);
      let error: PacsError | undefined;
      const onAbort = () => {
        error = new PacsError('cancelled', 'cancelled');
        client.abort();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      client.on('associationRejected', (r: { result: number; source: number; reason: number }) => {
        error = new PacsError('auth', `${this.peer()} rejected the association (calling AE ${this.config.callingAet}; reason ${r.reason}): is our AE title known to the PACS?`);
      });
      client.on('networkError', (e: Error) => {
        error ??= new PacsError('unreachable', `cannot reach ${this.peer()}: ${e.message}`);
      });
      client.on('closed', () => {
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve();
      });
      client.send(this.config.host, this.config.port, this.config.callingAet, this.config.aet, TIMEOUTS);
    });
  }

  private peer(): string {
    return `${this.config.aet}@${this.config.host}:${this.config.port}`;
  }
}

/**
 * A received dataset as a Part 10 file: its bytes as received (C-MOVE, store-scp.ts), else as dcmjs-dimse
 * writes it again (C-GET: its client has no hook to keep them), letting through values longer than their
 * VR allows (an ACR-NEMA date 1994.11.05 in a DA element) rather than losing the instance.
 */
async function part10(ds: DimseDataset): Promise<Buffer> {
  const asReceived = part10FromReceived(ds);
  if (asReceived) return asReceived;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-dimse-'));
  const file = path.join(dir, 'instance.dcm');
  try {
    await new Promise<void>((resolve, reject) => ds.toFile(file, (err) => (err ? reject(err) : resolve()), undefined, { allowInvalidVRLength: true }));
    return fs.readFileSync(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const text = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(Array.isArray(v) ? v[0] : v));
const list = (v: unknown): string[] => (v === undefined || v === '' ? [] : Array.isArray(v) ? v.map(String) : String(v).split('\\'));
const numberOf = (v: unknown): number | undefined => (text(v) === undefined ? undefined : Number(text(v)));

function personName(v: unknown): string | undefined {
  const first: unknown = Array.isArray(v) ? v[0] : v;
  if (first && typeof first === 'object' && 'Alphabetic' in first) return String((first as { Alphabetic: unknown }).Alphabetic);
  return text(first);
}
