import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveConnection, loadConnection } from '../../../core/pacs/connection';
import { DicomWebClient } from '../../../core/pacs/dicomweb';
import { PacsError } from '../../../core/pacs/errors';
import { retrieve } from '../../../core/pacs/retrieve';
import { sendReports } from '../../../core/pacs/send';
import { Workspace } from '../../../core/store';
import { ORTHANC_PASSWORD, ORTHANC_USER, OrthancServer, orthancMissing, sharedDicomFiles } from '../../helpers/orthanc';

const missing = orthancMissing();
if (missing) console.warn(`skipping the PACS tests: ${missing}`);

describe.skipIf(missing)('DICOMweb against a real Orthanc', () => {
  let orthanc: OrthancServer;
  let accepted: string[];
  let tmp: string;
  const env = { PACS_PW: ORTHANC_PASSWORD };

  beforeAll(async () => {
    orthanc = await OrthancServer.start();
    accepted = [...new Set((await orthanc.upload(sharedDicomFiles())).accepted)];
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-pacs-'));
  });
  afterAll(async () => {
    await orthanc?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Every study, series and instance UID the PACS holds now. */
  async function pacsUids(): Promise<Set<string>> {
    const uids = new Set<string>();
    for (const [level, tag] of [['studies', 'StudyInstanceUID'], ['series', 'SeriesInstanceUID'], ['instances', 'SOPInstanceUID']]) {
      for (const item of await orthanc.rest<{ MainDicomTags: Record<string, string> }[]>(`/${level}?expand`)) uids.add(item.MainDicomTags[tag]);
    }
    return uids;
  }

  const client = () => new DicomWebClient({ url: orthanc.dicomWebUrl, auth: { kind: 'basic', user: ORTHANC_USER, password: { env: 'PACS_PW' } } }, env);

  it('keeps the connection in the workspace with a reference to the secret, never the secret', () => {
    const ws = Workspace.create(path.join(tmp, 'conn'));
    saveConnection(ws, 'orthanc', { dicomweb: { url: orthanc.dicomWebUrl, auth: { kind: 'basic', user: ORTHANC_USER, password: { env: 'PACS_PW' } } } });
    expect(loadConnection(ws, 'orthanc').dicomweb?.url).toBe(orthanc.dicomWebUrl);
    ws.close();
    const raw = fs.readFileSync(path.join(tmp, 'conn', 'medtune.sqlite'));
    expect(raw.includes(Buffer.from(ORTHANC_PASSWORD))).toBe(false);
    expect(() => saveConnection(Workspace.open(path.join(tmp, 'conn')), 'x', { dicomweb: { url: 'ftp://h' } })).toThrow(/dicomweb.url/);
  });

  it('pings, and names wrong credentials as such', async () => {
    await client().echo();
    const wrong = new DicomWebClient({ url: orthanc.dicomWebUrl, auth: { kind: 'basic', user: ORTHANC_USER, password: { env: 'PACS_PW' } } }, { PACS_PW: 'wrong' });
    await expect(wrong.echo()).rejects.toMatchObject({ code: 'auth', message: expect.stringMatching(/refused the credentials \(HTTP 401\)/) });
    const unset = new DicomWebClient({ url: orthanc.dicomWebUrl, auth: { kind: 'basic', user: ORTHANC_USER, password: { env: 'PACS_PW' } } }, {});
    await expect(unset.echo()).rejects.toThrow(/PACS_PW .* is not set/);
  });

  it('queries studies by patient, date, modality, accession and description, then their series', async () => {
    const all = await client().findStudies({});
    const fromOrthanc = await orthanc.rest<string[]>('/studies');
    expect(all).toHaveLength(fromOrthanc.length);
    const withId = all.find((s) => s.patientId && s.studyDate && s.modalities.length > 0)!;
    const byId = await client().findStudies({ patientId: withId.patientId });
    expect(byId.map((s) => s.studyUid)).toContain(withId.studyUid);
    expect(byId.every((s) => s.patientId === withId.patientId)).toBe(true);
    const byDate = await client().findStudies({ dateFrom: withId.studyDate, dateTo: withId.studyDate });
    expect(byDate.every((s) => s.studyDate === withId.studyDate)).toBe(true);
    expect(byDate.map((s) => s.studyUid)).toContain(withId.studyUid);
    const byModality = await client().findStudies({ modality: withId.modalities[0] });
    expect(byModality.every((s) => s.modalities.includes(withId.modalities[0]))).toBe(true);
    const named = all.find((s) => s.patientName)!;
    const byName = await client().findStudies({ patientName: named.patientName!.slice(0, 3) });
    expect(byName.map((s) => s.studyUid)).toContain(named.studyUid);
    const described = all.find((s) => s.description?.includes(' '))!;
    const byDescription = await client().findStudies({ studyDescription: described.description });
    expect(byDescription.map((s) => s.studyUid)).toContain(described.studyUid);
    expect(byDescription.length).toBeLessThan(all.length);
    expect(await client().findStudies({ accessionNumber: 'NO-SUCH-ACCESSION' })).toEqual([]);
    const series = await client().findSeries(withId.studyUid);
    expect(series.length).toBe(withId.seriesCount);
    expect(series[0].seriesUid).toMatch(/^[0-9.]+$/);
  });

  it('retrieves everything through WADO-RS into the workspace; a second run fetches only what was not kept', async () => {
    const ws = Workspace.create(path.join(tmp, 'all'));
    const studies = await client().findStudies({});
    const report = await retrieve(ws, client(), studies.map((s) => ({ studyUid: s.studyUid })), { concurrency: 4 });
    expect(report.listed).toBe(accepted.length);
    // The shared set holds two files with the same study/series/SOP UIDs under different patients: Orthanc
    // lists that SOP Instance UID but cannot serve it by UID (404), and the report names it.
    expect(report.failures.filter((f) => f.code === 'not-found')).toHaveLength(report.failed);
    expect(report.failed).toBeLessThanOrEqual(1);
    expect(report.fetched + report.failed).toBe(accepted.length);
    // What the importer refuses (e.g. files without pixel data) is kept in quarantine, with a reason.
    expect(report.failures.filter((f) => f.code !== 'not-found')).toHaveLength(report.quarantined);
    expect(report.failures.every((f) => f.reason.length > 10)).toBe(true);
    expect(report.imported + report.skipped + report.duplicates + report.quarantined).toBe(report.fetched);
    expect(report.imported).toBeGreaterThan(30);
    for (const id of report.caseIds) expect(ws.cases.get(id)).toBeDefined();
    expect(ws.info().caseCount).toBe(report.imported);
    const again = await retrieve(ws, client(), studies.map((s) => ({ studyUid: s.studyUid })));
    expect(again.present).toBe(report.imported);
    expect(again.fetched).toBe(report.skipped + report.duplicates + report.quarantined);
    expect(again.failed).toBe(report.failed);
    expect(again.imported).toBe(0);
    ws.close();
  });

  it('stops with a clear state when Orthanc goes away mid-transfer; a later run completes', async () => {
    const ws = Workspace.create(path.join(tmp, 'gone'));
    const studies = (await client().findStudies({})).map((s) => ({ studyUid: s.studyUid }));
    let seen = 0;
    const first = await retrieve(ws, client(), studies, {
      concurrency: 2,
      batchSize: 5,
      retries: 1,
      backoffMs: 10,
      onProgress: (p) => {
        if (p.phase === 'fetching' && ++seen === 10) void orthanc.kill();
      },
    });
    expect(first.interrupted).toMatch(/cannot reach .* run the retrieve again to resume/);
    expect(first.fetched).toBeLessThan(accepted.length);
    const kept = ws.info().caseCount;
    expect(kept).toBeGreaterThan(0);
    await orthanc.launch();
    const second = await retrieve(ws, client(), studies);
    expect(second.interrupted).toBeUndefined();
    // Present = instances kept by SOP Instance UID (cases the importer derived another UID for, e.g. a
    // byte-duplicate under another name, are counted in the workspace but not as present).
    expect(second.present).toBeGreaterThan(0);
    expect(second.present).toBeLessThanOrEqual(kept);
    expect(second.fetched + second.failed).toBe(accepted.length - second.present);
    expect(second.imported + second.skipped + second.duplicates + second.quarantined).toBe(second.fetched);
    ws.close();
  });

  it('cancels between instances on its signal, keeping what was imported; the next run finishes', async () => {
    const ws = Workspace.create(path.join(tmp, 'cancel'));
    const studies = (await client().findStudies({})).map((s) => ({ studyUid: s.studyUid }));
    const abort = new AbortController();
    const progress: number[] = [];
    const first = await retrieve(ws, client(), studies, {
      concurrency: 1,
      batchSize: 4,
      signal: abort.signal,
      onProgress: (p) => {
        if (p.phase !== 'fetching') return;
        progress.push(p.done);
        if (p.done === 9) abort.abort();
      },
    });
    expect(first.cancelled).toBe(true);
    expect(first.fetched + first.failed).toBe(9);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(ws.info().caseCount).toBe(first.imported);
    expect(fs.existsSync(path.join(ws.dir, 'pacs-incoming'))).toBe(false);
    const second = await retrieve(ws, client(), studies);
    expect(second.cancelled).toBe(false);
    expect(second.present).toBe(first.imported);
    ws.close();
  });

  it('sends a Basic Text SR per study back through STOW-RS; Orthanc stores it and dciodvfy finds no error', async () => {
    const ws = Workspace.open(path.join(tmp, 'all'));
    const task = ws.tasks.create({ name: 'quality', kind: 'multiclass', classes: ['good', 'poor'] });
    // Two cases from studies with legal UIDs and one whose fixture UIDs have an illegal root, whatever order the
    // retrieve imported them in.
    const all = ws.listCases({ limit: 10_000 }).items;
    const dicom = all.filter((c) => ws.cases.get(c.id).kind === 'dicom');
    const illegal = (c: { id: number }) => ws.cases.get(c.id).studyInstanceUid.startsWith('999.');
    const cases = [...dicom.filter((c) => !illegal(c)).slice(0, 2), ...dicom.filter(illegal).slice(0, 1)];
    expect(cases).toHaveLength(3);
    ws.labels.setMany(cases.map((c, i) => ({ caseId: c.id, taskId: task.id, value: i % 2 ? 'poor' : 'good', author: 'reader-a' })));
    const sourceUids = await pacsUids();
    const sent = await sendReports(ws, client(), task.id);
    expect(sent.cases).toBe(3);
    expect(sent.reports).toHaveLength(sent.studies);
    for (const uid of sent.reports) {
      const ids = await orthanc.post<string[]>('/tools/find', { Level: 'Instance', Query: { SOPInstanceUID: uid } });
      expect(ids).toHaveLength(1);
      const file = path.join(tmp, `${uid}.dcm`);
      fs.writeFileSync(file, await orthanc.file(`/instances/${ids[0]}/file`));
      const out = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
      expect(out.stderr + out.stdout).toMatch(/BasicTextSR/);
      // The report must reference the source study by its own UIDs; a fixture whose UIDs have an illegal root
      // (e.g. "999.999…") makes dciodvfy flag those references. Every other error, and any on a UID we minted, fails.
      const errors = (out.stderr + out.stdout).split('\n').filter((line) => line.startsWith('Error'));
      const ours = errors.filter((line) => !sourceUids.has(/Illegal root for UID - "([^"]+)"/.exec(line)?.[1] ?? ''));
      expect(ours).toEqual([]);
      const dump = execFileSync('dcmdump', [file]).toString();
      expect(dump).toMatch(/\((good|poor) \(read by reader-a\)\)|\[(good|poor) \(read by reader-a\)\]/);
      expect(dump).toMatch(/Algorithm Version/);
    }
    ws.close();
  });

  it('refuses a UID that is not one before sending anything', async () => {
    await expect(client().listInstances('1.2/../../x')).rejects.toBeInstanceOf(PacsError);
  });
});
