import { randomUUID } from 'node:crypto';
import type { PacsClient } from './client';
import type { DicomWebConfig } from './connection';
import { PacsError } from './errors';
import { buildMultipart, multipartBoundary, parseMultipart } from './multipart';
import { matchingKeys, type InstanceRef, type SeriesResult, type StudyQuery, type StudyResult } from './query';
import { resolveSecret } from './secrets';

/** A DICOM JSON dataset (PS3.18 F.2): tag → {vr, Value}. */
type DicomJson = Record<string, { vr: string; Value?: unknown[] }>;

const TAG = {
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SOPInstanceUID: '00080018',
  PatientID: '00100020',
  PatientName: '00100010',
  StudyDate: '00080020',
  AccessionNumber: '00080050',
  StudyDescription: '00081030',
  ModalitiesInStudy: '00080061',
  Modality: '00080060',
  SeriesNumber: '00200011',
  SeriesDescription: '0008103E',
  NumberOfStudyRelatedSeries: '00201206',
  NumberOfStudyRelatedInstances: '00201208',
  NumberOfSeriesRelatedInstances: '00201209',
} as const;

/**
 * DICOMweb (QIDO-RS, WADO-RS, STOW-RS) over Node's fetch. The dicomweb-client package is built on
 * XMLHttpRequest, which Node does not have, so the few requests MedTune needs are made here.
 */
export class DicomWebClient implements PacsClient {
  readonly protocol = 'dicomweb' as const;
  private readonly base: string;

  constructor(
    private readonly config: DicomWebConfig,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.base = config.url.replace(/\/+$/, '');
  }

  async echo(signal?: AbortSignal): Promise<void> {
    await this.json('/studies?limit=1', signal);
  }

  async findStudies(q: StudyQuery, signal?: AbortSignal): Promise<StudyResult[]> {
    const params = Object.entries(matchingKeys(q)).map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
    for (const f of ['ModalitiesInStudy', 'NumberOfStudyRelatedSeries', 'NumberOfStudyRelatedInstances', 'StudyDescription', 'AccessionNumber']) {
      params.push(`includefield=${f}`);
    }
    if (q.limit) params.push(`limit=${q.limit}`);
    // encodeURIComponent, not URLSearchParams: a '+' for a space is form encoding, which PACS need not decode.
    const rows = await this.json(`/studies?${params.join('&')}`, signal);
    return rows.map((r) => ({
      studyUid: str(r, TAG.StudyInstanceUID) ?? '',
      patientId: str(r, TAG.PatientID),
      patientName: str(r, TAG.PatientName),
      studyDate: str(r, TAG.StudyDate),
      accessionNumber: str(r, TAG.AccessionNumber),
      description: str(r, TAG.StudyDescription),
      modalities: (r[TAG.ModalitiesInStudy]?.Value ?? []).map(String),
      seriesCount: num(r, TAG.NumberOfStudyRelatedSeries),
      instanceCount: num(r, TAG.NumberOfStudyRelatedInstances),
    }));
  }

  async findSeries(studyUid: string, signal?: AbortSignal): Promise<SeriesResult[]> {
    const rows = await this.json(`/studies/${uidPath(studyUid)}/series?includefield=NumberOfSeriesRelatedInstances&includefield=SeriesDescription`, signal);
    return rows.map((r) => ({
      studyUid,
      seriesUid: str(r, TAG.SeriesInstanceUID) ?? '',
      modality: str(r, TAG.Modality),
      seriesNumber: num(r, TAG.SeriesNumber),
      description: str(r, TAG.SeriesDescription),
      instanceCount: num(r, TAG.NumberOfSeriesRelatedInstances),
    }));
  }

  async listInstances(studyUid: string, seriesUid?: string, signal?: AbortSignal): Promise<InstanceRef[]> {
    const route = seriesUid ? `/studies/${uidPath(studyUid)}/series/${uidPath(seriesUid)}/instances` : `/studies/${uidPath(studyUid)}/instances`;
    const rows = await this.json(route, signal);
    return rows.map((r) => ({
      studyUid,
      seriesUid: str(r, TAG.SeriesInstanceUID) ?? seriesUid ?? '',
      sopInstanceUid: str(r, TAG.SOPInstanceUID) ?? '',
    }));
  }

  async fetchInstance(ref: InstanceRef, signal?: AbortSignal): Promise<Buffer> {
    const route = `/studies/${uidPath(ref.studyUid)}/series/${uidPath(ref.seriesUid)}/instances/${uidPath(ref.sopInstanceUid)}`;
    // transfer-syntax=* : the file as the PACS stores it, byte for byte, with no transcoding on its side.
    const res = await this.request(route, { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' }, signal);
    const parts = parseMultipart(Buffer.from(await res.arrayBuffer()), multipartBoundary(res.headers.get('content-type')));
    if (parts.length !== 1) throw new PacsError('protocol', `WADO-RS gave ${parts.length} parts for instance ${ref.sopInstanceUid}`);
    return parts[0];
  }

  async store(files: Buffer[], signal?: AbortSignal): Promise<void> {
    const boundary = `medtune-${randomUUID()}`;
    const res = await this.request(
      '/studies',
      {
        method: 'POST',
        accept: 'application/dicom+json',
        'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
        body: buildMultipart(files, boundary),
      },
      signal,
    );
    const answer = (await res.json().catch(() => ({}))) as DicomJson;
    // 00081198 FailedSOPSequence: the PACS refused some of them although the request as a whole went through.
    const failed = answer['00081198']?.Value?.length ?? 0;
    if (failed > 0) throw new PacsError('rejected', `STOW-RS: the PACS refused ${failed} of ${files.length} objects`);
  }

  private async json(route: string, signal?: AbortSignal): Promise<DicomJson[]> {
    const res = await this.request(route, { accept: 'application/dicom+json' }, signal);
    // QIDO-RS answers 204 when nothing matches.
    if (res.status === 204) return [];
    const body = (await res.json()) as unknown;
    if (!Array.isArray(body)) throw new PacsError('protocol', `${route}: expected a JSON array from the PACS`);
    return body as DicomJson[];
  }

  private async request(
    route: string,
    opts: { method?: string; accept: string; 'content-type'?: string; body?: Buffer },
    signal?: AbortSignal,
  ): Promise<Response> {
    const url = `${this.base}${route}`;
    const headers: Record<string, string> = { accept: opts.accept, ...this.authHeaders() };
    if (opts['content-type']) headers['content-type'] = opts['content-type'];
    let res: Response;
    try {
      res = await fetch(url, { method: opts.method ?? 'GET', headers, body: opts.body, signal });
    } catch (err) {
      if (signal?.aborted) throw new PacsError('cancelled', 'cancelled');
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new PacsError('unreachable', `cannot reach ${this.base}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    if (res.ok) return res;
    await res.body?.cancel();
    if (res.status === 401 || res.status === 403) {
      throw new PacsError('auth', `${this.base} refused the credentials (HTTP ${res.status}); check the user and the password or token`);
    }
    if (res.status === 404) throw new PacsError('not-found', `${url}: not found (HTTP 404)`);
    throw new PacsError(res.status >= 500 ? 'unreachable' : 'protocol', `${url}: HTTP ${res.status} ${res.statusText}`);
  }

  private authHeaders(): Record<string, string> {
    const auth = this.config.auth;
    if (!auth) return {};
    if (auth.kind === 'bearer') return { authorization: `Bearer ${resolveSecret(auth.token, this.env)}` };
    const password = resolveSecret(auth.password, this.env);
    return { authorization: `Basic ${Buffer.from(`${auth.user}:${password}`).toString('base64')}` };
  }
}

function uidPath(uid: string): string {
  if (!/^[0-9.]{1,64}$/.test(uid)) throw new PacsError('protocol', `"${uid}" is not a DICOM UID`);
  return uid;
}

function str(r: DicomJson, tag: string): string | undefined {
  const v = r[tag]?.Value?.[0];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object' && 'Alphabetic' in v) return String((v as { Alphabetic: unknown }).Alphabetic);
  return String(v);
}

function num(r: DicomJson, tag: string): number | undefined {
  const v = r[tag]?.Value?.[0];
  return v === undefined ? undefined : Number(v);
}
