/**
 * PACS retrieve benchmark against a private Orthanc (as the tests start it): uploads the shared DICOM
 * files named *.dcm (92 files, 47 distinct instances; Orthanc refuses some), then in the same run measures
 *   1. plain HTTP: one GET /instances/{id}/file per instance from Orthanc's REST API, `--concurrency` at a
 *      time, bytes only (nothing parsed or stored), and
 *   2. `medtune pacs retrieve` over WADO-RS into a fresh workspace (listing, multipart parsing, staging,
 *      import with de-duplication and durable blobs),
 *   3. the same retrieve over DIMSE (C-GET per instance),
 * and prints instances/s for each and the ratio to plain HTTP. `--rounds N` repeats the set N times
 * (fresh workspaces each round) for steadier numbers.
 *
 *   npm run bench:pacs [-- --concurrency 4] [-- --rounds 3]
 */
import fs from 'node:fs';
import path from 'node:path';
import { DicomWebClient } from '../core/pacs/dicomweb';
import { DimseClient } from '../core/pacs/dimse';
import { retrieve } from '../core/pacs/retrieve';
import { Workspace } from '../core/store';
import { MEDTUNE_AET, ORTHANC_AET, ORTHANC_PASSWORD, ORTHANC_USER, OrthancServer, orthancMissing, sharedDicomFiles } from '../test/helpers/orthanc';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const concurrency = arg('concurrency', 4);
const rounds = arg('rounds', 3);
const why = orthancMissing();
if (why) {
  console.error(`bench:pacs needs Orthanc: ${why}`);
  process.exit(1);
}

const orthanc = await OrthancServer.start();
try {
  const files = sharedDicomFiles();
  const { accepted } = await orthanc.upload(files);
  const ids = await orthanc.rest<string[]>('/instances');
  console.log(`${files.length} shared *.dcm files uploaded; Orthanc holds ${ids.length} instances (${new Set(accepted).size} distinct SOP Instance UIDs); ${rounds} round(s), concurrency ${concurrency}`);

  const plain = async () => {
    let next = 0;
    const worker = async () => {
      while (next < ids.length) await orthanc.file(`/instances/${ids[next++]}/file`);
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return ids.length;
  };
  const env = { PW: ORTHANC_PASSWORD };
  const web = new DicomWebClient({ url: orthanc.dicomWebUrl, auth: { kind: 'basic', user: ORTHANC_USER, password: { env: 'PW' } } }, env);
  const dimse = new DimseClient({ aet: ORTHANC_AET, host: '127.0.0.1', port: orthanc.dicomPort, callingAet: MEDTUNE_AET });
  const studies = (await web.findStudies({})).map((s) => ({ studyUid: s.studyUid }));
  const viaRetrieve = (client: DicomWebClient | DimseClient) => async () => {
    const dir = fs.mkdtempSync(path.join(orthanc.dir, 'ws-'));
    fs.rmdirSync(dir);
    const ws = Workspace.create(dir);
    try {
      const r = await retrieve(ws, client, studies, { concurrency });
      return r.fetched;
    } finally {
      ws.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  const rows: [string, number][] = [];
  for (const [name, fn] of [
    ['plain HTTP GET (REST, bytes only)', plain],
    ['pacs retrieve, WADO-RS', viaRetrieve(web)],
    ['pacs retrieve, DIMSE C-GET', viaRetrieve(dimse)],
  ] as const) {
    let n = 0;
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) n += await fn();
    rows.push([name, n / ((performance.now() - t0) / 1000)]);
  }
  const base = rows[0][1];
  console.log('| path | instances/s | time vs plain HTTP |');
  console.log('|---|---|---|');
  for (const [name, rate] of rows) console.log(`| ${name} | ${rate.toFixed(1)} | ${(base / rate).toFixed(2)}× |`);
} finally {
  await orthanc.stop();
}
