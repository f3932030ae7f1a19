import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch, type Handlers } from '../../../core/api/dispatch';
import type { EventPayload, RequestOf, ResponseOf } from '../../../core/api/contract';
import type { ChannelName } from '../../../core/api/names';
import { createHandlers } from '../../../core/app/handlers';
import { KEYCHAIN_PROTECTOR_ID } from '../../../core/app/pacs-handlers';
import { AppSession } from '../../../core/app/session';
import { registerSecretProtector } from '../../../core/pacs/secrets';
import { freePort, MEDTUNE_AET, ORTHANC_AET, ORTHANC_PASSWORD, ORTHANC_USER, OrthancServer, orthancMissing, sharedDicomFiles } from '../../helpers/orthanc';

const missing = orthancMissing();
if (missing) console.warn(`skipping the PACS handler tests: ${missing}`);

/** The handlers read Basic passwords from the MedTune process's environment, as the desktop app does. */
const PW_VAR = 'MEDTUNE_TEST_PANEL_PW';

describe.skipIf(missing)('PACS channels (the panel’s) against a real Orthanc', () => {
  let orthanc: OrthancServer;
  let tmp: string;
  let session: AppSession;
  let handlers: Handlers;
  const seen: { event: string; payload: unknown }[] = [];

  const raw = (channel: ChannelName, request: unknown) => dispatch(handlers, channel, request, { transport: 'websocket' });
  const call = async <C extends ChannelName>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> => {
    const r = await raw(channel, request);
    if (!r.ok) throw new Error(`${channel}: ${r.error.code}: ${r.error.message}`);
    return r.value as ResponseOf<C>;
  };
  const failure = async (channel: ChannelName, request: unknown) => {
    const r = await raw(channel, request);
    if (r.ok) throw new Error(`${channel} succeeded, a failure was expected`);
    return r.error;
  };

  beforeAll(async () => {
    orthanc = await OrthancServer.start();
    await orthanc.upload(sharedDicomFiles());
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-pacs-ui-'));
    process.env[PW_VAR] = ORTHANC_PASSWORD;
    session = new AppSession('reader');
    handlers = createHandlers(session);
    session.events.subscribe((event, payload) => seen.push({ event, payload }));
    await call('workspace.create', { dir: path.join(tmp, 'ws') });
  }, 120_000);
  afterAll(async () => {
    session?.dispose();
    delete process.env[PW_VAR];
    await orthanc?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('adds, lists and removes connections; the password stays an environment-variable reference', async () => {
    const added = await call('pacs.add', { name: 'orthanc', dicomweb: { url: orthanc.dicomWebUrl, user: ORTHANC_USER, passwordEnv: PW_VAR } });
    expect(added.dicomweb).toEqual({ url: orthanc.dicomWebUrl, auth: 'basic', user: ORTHANC_USER, secret: `from $${PW_VAR}` });
    await call('pacs.add', { name: 'dimse', dimse: { aet: ORTHANC_AET, host: '127.0.0.1', port: orthanc.dicomPort, callingAet: MEDTUNE_AET } });
    const list = await call('pacs.list', {});
    expect(list.map((c) => c.name)).toEqual(['dimse', 'orthanc']);
    expect(JSON.stringify(list)).not.toContain(ORTHANC_PASSWORD);
    const db = fs.readFileSync(path.join(tmp, 'ws', 'medtune.sqlite'));
    expect(db.includes(Buffer.from(ORTHANC_PASSWORD))).toBe(false);

    await call('pacs.add', { name: 'gone', dimse: { aet: 'X', host: 'h', port: 104 } });
    expect(await call('pacs.remove', { name: 'gone' })).toEqual({ removed: true });
    expect((await call('pacs.list', {})).map((c) => c.name)).not.toContain('gone');
  });

  it('refuses a typed password without a keychain, and keeps it only as ciphertext with one', async () => {
    const refused = await failure('pacs.add', { name: 'typed', dicomweb: { url: orthanc.dicomWebUrl, user: ORTHANC_USER, password: ORTHANC_PASSWORD } });
    expect(refused).toMatchObject({ code: 'unsupported', message: expect.stringMatching(/environment variable/) });
    expect(await failure('pacs.add', { name: 'nopw', dicomweb: { url: orthanc.dicomWebUrl, user: ORTHANC_USER } })).toMatchObject({ message: expect.stringMatching(/needs a password/) });
    expect(await failure('pacs.add', { name: 'bad', dicomweb: { url: 'ftp://pacs' } })).toMatchObject({ code: 'invalid-request', message: expect.stringMatching(/http:\/\/ or https:\/\//) });

    // What the desktop app registers (Electron's safeStorage); here an AES key that lives in this process only.
    const key = crypto.randomBytes(32);
    registerSecretProtector({
      id: KEYCHAIN_PROTECTOR_ID,
      protect: (plain) => {
        const iv = crypto.randomBytes(12);
        const c = crypto.createCipheriv('aes-256-gcm', key, iv);
        const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
        return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
      },
      unprotect: (text) => {
        const b = Buffer.from(text, 'base64');
        const d = crypto.createDecipheriv('aes-256-gcm', key, b.subarray(0, 12));
        d.setAuthTag(b.subarray(12, 28));
        return Buffer.concat([d.update(b.subarray(28)), d.final()]).toString('utf8');
      },
    });
    const typed = await call('pacs.add', { name: 'typed', dicomweb: { url: orthanc.dicomWebUrl, user: ORTHANC_USER, password: ORTHANC_PASSWORD } });
    expect(typed.dicomweb?.secret).toBe(`kept by ${KEYCHAIN_PROTECTOR_ID}`);
    expect(JSON.stringify(typed)).not.toContain(ORTHANC_PASSWORD);
    expect(fs.readFileSync(path.join(tmp, 'ws', 'medtune.sqlite')).includes(Buffer.from(ORTHANC_PASSWORD))).toBe(false);
    expect((await call('pacs.echo', { connection: 'typed' })).protocol).toBe('dicomweb');
  });

  it('tests a connection over DICOMweb and C-ECHO, and says why one fails', async () => {
    expect((await call('pacs.echo', { connection: 'orthanc' })).message).toMatch(/^orthanc answered \(DICOMweb\) in \d+ ms/);
    expect((await call('pacs.echo', { connection: 'dimse' })).message).toMatch(/^dimse answered \(C-ECHO\)/);

    await call('pacs.add', { name: 'wrongpw', dicomweb: { url: orthanc.dicomWebUrl, user: 'nobody', passwordEnv: PW_VAR } });
    expect(await failure('pacs.echo', { connection: 'wrongpw' })).toEqual({
      code: 'invalid',
      message: `The PACS refused us: ${orthanc.dicomWebUrl} refused the credentials (HTTP 401); check the user and the password or token.`,
    });
    const port = await freePort();
    await call('pacs.add', { name: 'down', dicomweb: { url: `http://127.0.0.1:${port}/dicom-web` } });
    expect(await failure('pacs.echo', { connection: 'down' })).toMatchObject({ code: 'io-error', message: expect.stringMatching(/^The PACS is unreachable: cannot reach .*ECONNREFUSED\. Check the address/) });
    await call('pacs.add', { name: 'unset', dicomweb: { url: orthanc.dicomWebUrl, user: ORTHANC_USER, passwordEnv: 'MEDTUNE_TEST_NOT_SET' } });
    expect(await failure('pacs.echo', { connection: 'unset' })).toMatchObject({ message: expect.stringMatching(/MEDTUNE_TEST_NOT_SET .* is not set/) });
    expect(await failure('pacs.echo', { connection: 'nosuch' })).toMatchObject({ code: 'not-found', message: expect.stringMatching(/^No PACS connection "nosuch" in this workspace \(known: .*orthanc/) });
  });

  it('finds studies with their series counts, over both protocols, and lists a study’s series', async () => {
    const all = await call('pacs.query', { connection: 'orthanc', query: {} });
    expect(all).toHaveLength((await orthanc.rest<string[]>('/studies')).length);
    const study = all.find((s) => s.patientId && (s.seriesCount ?? 0) >= 1)!;
    const byPatient = await call('pacs.query', { connection: 'orthanc', query: { patientId: study.patientId, modality: '', accessionNumber: '' } });
    expect(byPatient.every((s) => s.patientId === study.patientId)).toBe(true);
    expect(byPatient.map((s) => s.studyUid)).toContain(study.studyUid);
    const overDimse = await call('pacs.query', { connection: 'dimse', query: { patientId: study.patientId } });
    expect(overDimse.map((s) => s.studyUid).sort()).toEqual(byPatient.map((s) => s.studyUid).sort());

    const series = await call('pacs.series', { connection: 'orthanc', studyUid: study.studyUid });
    expect(series).toHaveLength(study.seriesCount!);
    expect(series.every((s) => s.studyUid === study.studyUid)).toBe(true);
    expect(await failure('pacs.query', { connection: 'orthanc', query: { dateFrom: '2024-01-01' } })).toMatchObject({ code: 'invalid-request', message: expect.stringMatching(/YYYYMMDD/) });
  });

  it('retrieves a study with progress events, announces the new cases, and fetches nothing twice', async () => {
    const studies = await call('pacs.query', { connection: 'orthanc', query: {} });
    const study = studies.filter((s) => (s.instanceCount ?? 0) >= 2).sort((a, b) => (b.instanceCount ?? 0) - (a.instanceCount ?? 0))[0];
    seen.length = 0;
    const report = await call('pacs.retrieve', { connection: 'orthanc', targets: [{ studyUid: study.studyUid }] });
    expect(report.cancelled).toBe(false);
    expect(report.listed).toBe(study.instanceCount);
    expect(report.imported).toBeGreaterThan(0);
    const progress = seen.filter((e) => e.event === 'pacs.progress').map((e) => e.payload as EventPayload<'pacs.progress'>);
    expect(progress.some((p) => p.phase === 'listing')).toBe(true);
    expect(progress.at(-1)).toMatchObject({ connection: 'orthanc', phase: 'done', total: report.listed });
    const changed = seen.filter((e) => e.event === 'workspace.changed').map((e) => e.payload as EventPayload<'workspace.changed'>);
    expect(changed.at(-1)?.caseCount).toBe(report.caseCount);
    const cases = await call('cases.list', {});
    expect(cases.total).toBe(report.caseCount);
    // Each case says where it came from, not the staging file it was imported from (deleted since).
    const record = await call('cases.get', { id: cases.items[0].id });
    expect(record.pacsOrigin).toMatchObject({ connection: 'orthanc', studyUid: study.studyUid });
    expect(record.case.sourcePath).toBe(`pacs://orthanc/studies/${study.studyUid}/series/${record.pacsOrigin!.seriesUid}/instances/${record.case.sopInstanceUid}`);
    expect(record.case.displayName).toMatch(/^orthanc · .+ · .+ · .+$/);
    expect(cases.items.every((c) => c.displayName.startsWith('orthanc · '))).toBe(true);
    expect((await call('cases.list', { search: 'orthanc' })).total).toBe(cases.total);

    const again = await call('pacs.retrieve', { connection: 'orthanc', targets: [{ studyUid: study.studyUid }] });
    expect(again).toMatchObject({ present: report.imported + report.duplicates, fetched: report.listed - report.imported - report.duplicates });
  });

  it('sends the task’s labels of the cases retrieved from a connection back, with progress and a result line', async () => {
    const task = await call('tasks.create', { name: 'quality', kind: 'multiclass', classes: [{ name: 'good' }, { name: 'poor' }] });
    const cases = await call('cases.list', {});
    const record = await call('cases.get', { id: cases.items[0].id });
    const studyUid = record.pacsOrigin!.studyUid;
    expect(await failure('pacs.send', { connection: 'orthanc', taskId: task.id })).toMatchObject({ code: 'not-found', message: expect.stringMatching(/^None of the \d+ cases retrieved from orthanc has a label in "quality" yet\.$/) });
    expect(await failure('pacs.send', { connection: 'dimse', taskId: task.id })).toMatchObject({ message: expect.stringMatching(/No case in this workspace was retrieved from dimse/) });

    await call('labels.set', { caseId: record.case.id, taskId: task.id, value: 'poor' });
    seen.length = 0;
    const sent = await call('pacs.send', { connection: 'orthanc', taskId: task.id, studyUids: [studyUid] });
    expect(sent).toMatchObject({ studies: 1, cases: 1, message: 'Sent 1 report (1 labelled case of "quality", from the chosen study) to orthanc by STOW-RS.' });
    expect(seen.filter((e) => e.event === 'pacs.progress').map((e) => e.payload)).toEqual([
      { connection: 'orthanc', phase: 'sending', done: 0, total: 1 },
      { connection: 'orthanc', phase: 'sending', done: 1, total: 1 },
    ]);
    const stored = await orthanc.post<string[]>('/tools/find', { Level: 'Instance', Query: { SOPInstanceUID: sent.reports[0] }, Expand: true });
    expect(stored).toHaveLength(1);
  });

  it('retrieves over C-MOVE when the DIMSE connection has our port, and frees that port afterwards', async () => {
    const added = await call('pacs.add', { name: 'mover', dimse: { aet: ORTHANC_AET, host: '127.0.0.1', port: orthanc.dicomPort, callingAet: MEDTUNE_AET, listenPort: orthanc.movePort } });
    expect(added.description).toContain(`(C-MOVE to port ${orthanc.movePort})`);
    const studies = await call('pacs.query', { connection: 'mover', query: {} });
    // The largest study came in over WADO-RS above; the next one comes over C-MOVE.
    const study = studies.filter((s) => s.modalities.some((m) => m !== 'SR')).sort((a, b) => (b.instanceCount ?? 0) - (a.instanceCount ?? 0))[1];
    const report = await call('pacs.retrieve', { connection: 'mover', targets: [{ studyUid: study.studyUid }] });
    expect(report).toMatchObject({ listed: study.instanceCount, failed: 0, cancelled: false });
    expect(report.fetched).toBeGreaterThan(0);
    expect(report.fetched).toBe(report.listed - report.present);
    expect(report.imported + report.skipped + report.duplicates + report.quarantined).toBe(report.fetched);
    // The storage SCP is closed with the retrieve: the port can be bound again.
    const { StoreScp } = await import('../../../core/pacs/store-scp');
    (await StoreScp.start({ port: orthanc.movePort, ourAet: MEDTUNE_AET, peerAet: ORTHANC_AET })).close();
  });

  it('cancels a running retrieve, and a cancel with nothing running says so', async () => {
    expect(await call('pacs.cancel', {})).toEqual({ cancelled: false });
    const studies = await call('pacs.query', { connection: 'orthanc', query: {} });
    const stop = session.events.subscribe((event, payload) => {
      if (event === 'pacs.progress' && (payload as EventPayload<'pacs.progress'>).phase === 'fetching') void call('pacs.cancel', {});
    });
    try {
      const report = await call('pacs.retrieve', { connection: 'orthanc', targets: studies.map((s) => ({ studyUid: s.studyUid })), concurrency: 1 });
      expect(report.cancelled).toBe(true);
      expect(report.fetched).toBeLessThan(report.listed - report.present);
    } finally {
      stop();
    }
  });
});
