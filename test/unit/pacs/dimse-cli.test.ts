import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConnection } from '../../../core/pacs/connection';
import { DimseClient } from '../../../core/pacs/dimse';
import { Workspace } from '../../../core/store';
import { runCli } from '../../helpers/cli';
import { MEDTUNE_AET, ORTHANC_AET, ORTHANC_PASSWORD, ORTHANC_USER, OrthancServer, orthancMissing, sharedDicomFiles } from '../../helpers/orthanc';
import { REPO_ROOT } from '../../helpers/paths';

const missing = orthancMissing();

function loadConnectionOf(dir: string, name: string) {
  const db = Workspace.open(dir);
  try {
    return loadConnection(db, name).dimse!;
  } finally {
    db.close();
  }
}

describe.skipIf(missing)('DIMSE and the pacs CLI against a real Orthanc', () => {
  let orthanc: OrthancServer;
  let accepted: string[];
  let tmp: string;
  let ws: string;

  beforeAll(async () => {
    orthanc = await OrthancServer.start();
    accepted = [...new Set((await orthanc.upload(sharedDicomFiles())).accepted)];
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-pacs-cli-'));
    ws = path.join(tmp, 'ws');
    process.env.MEDTUNE_TEST_PACS_PW = ORTHANC_PASSWORD;
    expect((await runCli(['workspace', 'init', ws])).code).toBe(0);
    const add = await runCli(['pacs', 'add', 'orthanc', '-w', ws, '--url', orthanc.dicomWebUrl, '--user', ORTHANC_USER, '--password-env', 'MEDTUNE_TEST_PACS_PW',
      '--aet', ORTHANC_AET, '--host', '127.0.0.1', '--port', String(orthanc.dicomPort), '--calling-aet', MEDTUNE_AET]);
    expect(add.code).toBe(0);
    expect(add.out).not.toContain(ORTHANC_PASSWORD);
  });
  afterAll(async () => {
    await orthanc?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('echoes over both protocols; wrong credentials give a clear error and no secret is printed', async () => {
    for (const protocol of ['dicomweb', 'dimse']) {
      const r = await runCli(['pacs', 'echo', 'orthanc', '-w', ws, '--protocol', protocol]);
      expect(r.out).toContain(`${protocol} OK`);
    }
    process.env.MEDTUNE_TEST_PACS_PW = 'not-the-password';
    const wrong = await runCli(['pacs', 'echo', 'orthanc', '-w', ws]);
    process.env.MEDTUNE_TEST_PACS_PW = ORTHANC_PASSWORD;
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/refused the credentials \(HTTP 401\)/);
    expect(wrong.err + wrong.out).not.toContain('not-the-password');
    const list = await runCli(['pacs', 'list', '-w', ws]);
    expect(list.out).toContain('password from $MEDTUNE_TEST_PACS_PW');
  });

  it('C-FIND finds the same studies and series as QIDO-RS', async () => {
    const web = JSON.parse((await runCli(['pacs', 'query', 'orthanc', '-w', ws, '--json'])).out) as { studyUid: string }[];
    const dimse = JSON.parse((await runCli(['pacs', 'query', 'orthanc', '-w', ws, '--json', '--protocol', 'dimse'])).out) as { studyUid: string }[];
    expect(dimse.map((s) => s.studyUid).sort()).toEqual(web.map((s) => s.studyUid).sort());
    const series = JSON.parse((await runCli(['pacs', 'query', 'orthanc', '-w', ws, '--json', '--protocol', 'dimse', '--study', web[0].studyUid])).out) as unknown[];
    expect(series.length).toBeGreaterThan(0);
  });

  it('retrieves a study over C-GET into the workspace', async () => {
    const db = Workspace.open(ws);
    const client = new DimseClient(loadConnection(db, 'orthanc').dimse!);
    db.close();
    const studies = await client.findStudies({});
    const study = studies.find((s) => (s.instanceCount ?? 0) >= 1 && s.modalities.some((m) => m !== 'SR'))!;
    const r = await runCli(['pacs', 'retrieve', 'orthanc', '-w', ws, '--protocol', 'dimse', '--study', study.studyUid, '--quiet']);
    expect(r.out).toMatch(/listed \d+, already here 0, fetched \d+/);
    const after = Workspace.open(ws);
    const refs = await client.listInstances(study.studyUid);
    const kept = refs.filter((ref) => after.cases.idBySopInstanceUid(ref.sopInstanceUid) !== undefined);
    after.close();
    expect(kept.length).toBeGreaterThan(0);
  });

  it('retrieves a study over C-MOVE to our own storage SCP, and a second run fetches nothing', async () => {
    const moveWs = path.join(tmp, 'move-ws');
    expect((await runCli(['workspace', 'init', moveWs])).code).toBe(0);
    const add = await runCli(['pacs', 'add', 'mover', '-w', moveWs, '--aet', ORTHANC_AET, '--host', '127.0.0.1', '--port', String(orthanc.dicomPort),
      '--calling-aet', MEDTUNE_AET, '--listen-port', String(orthanc.movePort)]);
    expect(add.out).toContain(`(C-MOVE to port ${orthanc.movePort})`);
    const client = new DimseClient(loadConnectionOf(moveWs, 'mover'));
    expect(client.retrieveWith).toBe('c-move');
    const study = (await client.findStudies({})).filter((s) => s.modalities.some((m) => m !== 'SR')).sort((a, b) => (b.instanceCount ?? 0) - (a.instanceCount ?? 0))[0];
    const first = await runCli(['pacs', 'retrieve', 'mover', '-w', moveWs, '--protocol', 'c-move', '--study', study.studyUid, '--quiet']);
    const m = /listed (\d+), already here 0, fetched (\d+): imported (\d+).*failed (\d+)/.exec(first.out)!;
    expect(Number(m[1])).toBe(study.instanceCount);
    expect(Number(m[2])).toBe(study.instanceCount);
    expect(Number(m[4])).toBe(0);
    const db = Workspace.open(moveWs);
    const refs = await client.listInstances(study.studyUid);
    const kept = refs.filter((ref) => db.cases.idBySopInstanceUid(ref.sopInstanceUid) !== undefined).length;
    db.close();
    expect(kept).toBe(Number(m[3]));
    expect(kept).toBeGreaterThan(0);
    const again = await runCli(['pacs', 'retrieve', 'mover', '-w', moveWs, '--protocol', 'dimse', '--study', study.studyUid, '--quiet']);
    expect(again.out).toContain(`already here ${kept}, fetched ${Number(m[2]) - kept}`);

    // Everything else over C-MOVE too: every SOP class (retired US, RT, SEG…) arrives, as received (no
    // re-encoding: one instance holds an ACR-NEMA date, 1993.04.30, that dcmjs refuses to write).
    const all = await runCli(['pacs', 'retrieve', 'mover', '-w', moveWs, '--all', '--quiet']);
    const n = /listed (\d+), already here (\d+), fetched (\d+):.* failed (\d+)/.exec(all.out)!.slice(1).map(Number);
    expect(n[0]).toBe(accepted.length);
    expect(n[2]).toBe(n[0] - n[1]);
    expect(n[3]).toBe(0);

    // C-MOVE asked of a connection without a port of ours: said before anything is fetched.
    const c = await runCli(['pacs', 'retrieve', 'orthanc', '-w', ws, '--protocol', 'c-move', '--study', study.studyUid, '--quiet']);
    expect(c.code).toBe(1);
    expect(c.err).toMatch(/C-MOVE needs our own port/);
  });

  it('retrieves every shared instance over C-GET too, whatever its SOP class (the class found by C-FIND is proposed)', async () => {
    const getWs = path.join(tmp, 'get-ws');
    expect((await runCli(['workspace', 'init', getWs])).code).toBe(0);
    await runCli(['pacs', 'add', 'getter', '-w', getWs, '--aet', ORTHANC_AET, '--host', '127.0.0.1', '--port', String(orthanc.dicomPort), '--calling-aet', MEDTUNE_AET]);
    const all = await runCli(['pacs', 'retrieve', 'getter', '-w', getWs, '--all', '--quiet']);
    const n = /listed (\d+), already here 0, fetched (\d+):.* failed (\d+)/.exec(all.out)!.slice(1).map(Number);
    expect(n).toEqual([accepted.length, accepted.length, 0]);
  });

  it('resumes after the retrieving process is killed (SIGKILL): only what is missing is fetched', async () => {
    const before = Workspace.open(ws);
    const had = before.info().caseCount;
    before.close();
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'medtune.mjs'), 'pacs', 'retrieve', 'orthanc', '--all', '-w', ws, '--concurrency', '1'], {
      env: { ...process.env, MEDTUNE_TEST_PACS_PW: ORTHANC_PASSWORD },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        // Past the first import batch (20 files): some cases are committed, most are not.
        const m = /fetched (\d+)\//.exec(err.slice(-40));
        if (m && Number(m[1]) >= 25) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`retrieve ended before it could be killed:\n${err}`)));
    });
    await new Promise((r) => child.once('exit', r));
    const mid = Workspace.open(ws);
    const kept = mid.info().caseCount;
    mid.close();
    expect(kept).toBeGreaterThan(had);
    const resumed = await runCli(['pacs', 'retrieve', 'orthanc', '--all', '-w', ws, '--quiet']);
    const m = /listed (\d+), already here (\d+), fetched (\d+).*failed (\d+)/.exec(resumed.out)!;
    expect(Number(m[1])).toBe(accepted.length);
    expect(Number(m[2])).toBe(kept);
    // Fetched or named as failed (the one SOP Instance UID Orthanc holds twice cannot be served by UID).
    expect(Number(m[3]) + Number(m[4])).toBe(accepted.length - kept);
  });

  it('sends the labels back over C-STORE and Orthanc stores the report', async () => {
    const db = Workspace.open(ws);
    const task = db.tasks.create({ name: 'quality', kind: 'multiclass', classes: ['good', 'poor'] });
    const c = db.listCases({ limit: 1 }).items[0];
    db.labels.set({ caseId: c.id, taskId: task.id, value: 'good', author: 'reader-b' });
    db.close();
    expect((await runCli(['pacs', 'send', 'orthanc', '-w', ws, '--task', 'quality', '--study', '1.2.3.4'])).err).toMatch(/no case in this workspace was retrieved from orthanc \(from those studies\)/);
    const r = await runCli(['pacs', 'send', 'orthanc', '-w', ws, '--task', 'quality', '--protocol', 'dimse', '--retrieved']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const uid = /^\s+(2\.25\.\d+)$/m.exec(r.out)![1];
    expect(await orthanc.post<string[]>('/tools/find', { Level: 'Instance', Query: { SOPInstanceUID: uid } })).toHaveLength(1);
  });
});
