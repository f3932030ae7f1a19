/**
 * PACS retrieve benchmark against a private Orthanc (as the tests start it). It first writes `--instances`
 * (default 500) valid DICOM instances, copies of the shared CT_small.dcm under new Study / Series / SOP
 * Instance UIDs (10 instances a series, 5 series a study), uploads them through Orthanc's REST API, then
 * in the same run measures fetching all of them by
 *   1. plain HTTP: one GET /instances/{id}/file per instance, `--concurrency` at a time, bytes only
 *      (nothing parsed or stored),
 *   2. Orthanc's own archive download: GET /studies/{id}/archive (a zip per study), `--concurrency` at a time,
 *   3. `medtune pacs retrieve` over WADO-RS into a fresh workspace (listing, multipart parsing, staging,
 *      import with pixel checks, de-duplication and durable blobs),
 *   4. with `--dimse`, the same retrieve over DIMSE C-GET and C-MOVE (one association per instance),
 * and prints instances/s for each and the time relative to plain HTTP.
 *
 *   npm run bench:pacs [-- --instances 500] [-- --concurrency 4] [-- --dimse]
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import dcmjs from 'dcmjs';
import type { PacsClient } from '../core/pacs/client';
import { DicomWebClient } from '../core/pacs/dicomweb';
import { DimseClient } from '../core/pacs/dimse';
import { retrieve } from '../core/pacs/retrieve';
import { Workspace } from '../core/store';
import { DICOM_DIR } from '../test/helpers/paths';
import { MEDTUNE_AET, ORTHANC_AET, ORTHANC_PASSWORD, ORTHANC_USER, OrthancServer, orthancMissing } from '../test/helpers/orthanc';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const count = arg('instances', 500);
const concurrency = arg('concurrency', 4);
const withDimse = process.argv.includes('--dimse');
const SOURCE = path.join(DICOM_DIR, 'pydicom_debian', 'CT_small.dcm');
const PER_SERIES = 10;
const SERIES_PER_STUDY = 5;

const why = orthancMissing();
if (why) {
  console.error(`bench:pacs needs Orthanc: ${why}`);
  process.exit(1);
}

const newUid = () => `2.25.${BigInt(`0x${randomUUID().replaceAll('-', '')}`)}`;

/** `n` copies of one file as distinct instances: new UIDs (meta header too), instance numbers and patients. */
function syntheticInstances(n: number): Buffer[] {
  const source = fs.readFileSync(SOURCE);
  // Parsed once; each copy changes the identifying elements and is written anew.
  const file = dcmjs.data.DicomMessage.readFile(source.buffer.slice(source.byteOffset, source.byteOffset + source.byteLength));
  const out: Buffer[] = [];
  let study = '';
  let series = '';
  for (let i = 0; i < n; i++) {
    if (i % (PER_SERIES * SERIES_PER_STUDY) === 0) study = newUid();
    if (i % PER_SERIES === 0) series = newUid();
    const sop = newUid();
    const set = (tag: string, vr: string, value: string | number) => (file.dict[tag] = { vr, Value: [value] });
    set('0020000D', 'UI', study);
    set('0020000E', 'UI', series);
    set('00080018', 'UI', sop);
    set('00200013', 'IS', (i % PER_SERIES) + 1);
    set('00200011', 'IS', Math.floor(i / PER_SERIES) % SERIES_PER_STUDY + 1);
    set('00100020', 'LO', `BENCH-${Math.floor(i / (PER_SERIES * SERIES_PER_STUDY))}`);
    file.meta['00020003'] = { vr: 'UI', Value: [sop] };
    const copy = new dcmjs.data.DicomDict(file.meta);
    copy.dict = file.dict;
    out.push(Buffer.from(copy.write()));
  }
  return out;
}

/** Runs `fn` over `items`, `limit` at a time. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

const orthanc = await OrthancServer.start();
try {
  let t0 = performance.now();
  const files = syntheticInstances(count);
  const made = (performance.now() - t0) / 1000;
  t0 = performance.now();
  await pool(files, concurrency, async (body) => {
    const res = await fetch(`${orthanc.baseUrl}/instances`, { method: 'POST', headers: { authorization: orthanc.authHeader, 'content-type': 'application/dicom' }, body });
    if (!res.ok) throw new Error(`Orthanc refused a synthetic instance: HTTP ${res.status} ${await res.text()}`);
  });
  const uploaded = (performance.now() - t0) / 1000;
  const ids = await orthanc.rest<string[]>('/instances');
  const studyIds = await orthanc.rest<string[]>('/studies');
  if (ids.length !== count) throw new Error(`Orthanc holds ${ids.length} instances, ${count} were uploaded`);
  console.log(
    `${count} instances (copies of CT_small.dcm, ${(files[0].length / 1024).toFixed(0)} KiB each, ${studyIds.length} studies) written in ${made.toFixed(1)} s and uploaded in ${uploaded.toFixed(1)} s; concurrency ${concurrency}`,
  );

  const plain = async () => {
    await pool(ids, concurrency, async (id) => void (await orthanc.file(`/instances/${id}/file`)));
    return ids.length;
  };
  const archive = async () => {
    let bytes = 0;
    await pool(studyIds, concurrency, async (id) => void (bytes += (await orthanc.file(`/studies/${id}/archive`)).length));
    if (bytes === 0) throw new Error('empty archives');
    return ids.length;
  };
  const env = { PW: ORTHANC_PASSWORD };
  const web = new DicomWebClient({ url: orthanc.dicomWebUrl, auth: { kind: 'basic', user: ORTHANC_USER, password: { env: 'PW' } } }, env);
  const dimse = { aet: ORTHANC_AET, host: '127.0.0.1', port: orthanc.dicomPort, callingAet: MEDTUNE_AET };
  const studies = (await web.findStudies({})).map((s) => ({ studyUid: s.studyUid }));
  const viaRetrieve = (client: PacsClient) => async () => {
    const dir = fs.mkdtempSync(path.join(orthanc.dir, 'ws-'));
    fs.rmdirSync(dir);
    const ws = Workspace.create(dir);
    try {
      const r = await retrieve(ws, client, studies, { concurrency, connection: 'bench' });
      if (r.imported !== count) throw new Error(`retrieve imported ${r.imported} of ${count} (failed ${r.failed}, quarantined ${r.quarantined})`);
      return r.imported;
    } finally {
      await client.close?.();
      ws.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  const runs: [string, () => Promise<number>][] = [
    ['plain HTTP GET /instances/{id}/file (bytes only)', plain],
    ['Orthanc archive download, zip per study (bytes only)', archive],
    ['pacs retrieve, WADO-RS (listing, multipart, import)', viaRetrieve(web)],
  ];
  if (withDimse) {
    runs.push(['pacs retrieve, DIMSE C-GET', viaRetrieve(new DimseClient(dimse, 'c-get'))]);
    runs.push(['pacs retrieve, DIMSE C-MOVE', viaRetrieve(new DimseClient({ ...dimse, listenPort: orthanc.movePort }, 'c-move'))]);
  }
  const rows: [string, number, number][] = [];
  for (const [name, fn] of runs) {
    const start = performance.now();
    const n = await fn();
    const s = (performance.now() - start) / 1000;
    rows.push([name, s, n / s]);
  }
  const base = rows[0][1];
  console.log('| path | seconds | instances/s | time vs plain HTTP |');
  console.log('|---|---|---|---|');
  for (const [name, s, rate] of rows) console.log(`| ${name} | ${s.toFixed(1)} | ${rate.toFixed(1)} | ${(s / base).toFixed(2)}× |`);
} finally {
  await orthanc.stop();
}
