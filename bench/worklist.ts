/**
 * Worklist benchmark: a workspace with 50,000 cases (synthetic rows sharing one stored file), a task
 * with 5 classes, 30,000 labels, predictions of an active version for every case and 500 suggestions;
 * then the time of worklist pages (100 cases) at several offsets, with each filter, sort and a
 * search, and of label writes (one at a time, as the UI does, and in bulk).
 *
 *   npm run bench:worklist [-- --cases 50000] [-- --keep <dir>]   (--keep: build the workspace in <dir> and leave it)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Workspace, type ImportRecord, type WorklistQuery } from '../core/store';
import { writeTinyDicom } from '../test/unit/store/helpers/dicom-writer';

const i = process.argv.indexOf('--cases');
const count = i >= 0 ? Number(process.argv[i + 1]) : 50_000;
const keep = process.argv.indexOf('--keep');
const root = keep >= 0 ? path.resolve(process.argv[keep + 1]) : fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-bench-worklist-'));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
function time<T>(fn: () => T): [number, T] {
  const t = performance.now();
  const r = fn();
  return [performance.now() - t, r];
}

try {
  const ws = Workspace.create(path.join(root, 'ws'));
  const sha = ws.blobs.put(writeTinyDicom({ sopInstanceUid: '1.2.3', studyInstanceUid: '1.2', seriesInstanceUid: '1.2.4' }));
  const classes = ['0', '1', '2', '3', '4'];

  let t = performance.now();
  for (let start = 0; start < count; start += 5000) {
    const records: ImportRecord[] = [];
    for (let k = start; k < Math.min(count, start + 5000); k++) {
      const study = Math.floor(k / 20);
      records.push({
        source: `/data/p${study % 3000}/s${study}/im${k}.dcm`,
        sha256: sha,
        size: 1,
        kind: 'dicom',
        format: 'dicom',
        displayName: `im${k}.dcm`,
        patient: { id: `PID${study % 3000}`, name: `Doe^Patient${study % 3000}` },
        study: { uid: `1.2.999.1.${study}`, date: `2024${String((study % 12) + 1).padStart(2, '0')}01`, accession: `ACC${study}` },
        series: { uid: `1.2.999.2.${Math.floor(k / 10)}`, modality: k % 3 ? 'CR' : 'CT' },
        instance: { sopInstanceUid: `1.2.999.3.${k}` },
        frameCount: 1,
        rows: 512,
        columns: 512,
      });
    }
    ws.insertImportRecords(records);
  }
  const insertMs = performance.now() - t;

  const task = ws.tasks.create({ name: 'DR grade', kind: 'ordinal', classes });
  const ids = ws.worklistIds('all', task.id);
  const labelled = Math.floor(count * 0.6);
  t = performance.now();
  for (let s = 0; s < labelled; s += 1000) {
    // Every 7th label differs from what the model will predict, so 'disagree' has work to do.
    ws.labels.setMany(
      ids.slice(s, Math.min(labelled, s + 1000)).map((caseId, k) => ({
        caseId,
        taskId: task.id,
        value: classes[((s + k) % 7 === 0 ? s + k + 1 : s + k) % 5],
        author: 'bench',
      })),
    );
  }
  const bulkLabelMs = performance.now() - t;

  const singles: number[] = [];
  for (let k = 0; k < 500; k++) {
    const caseId = ids[labelled + k];
    singles.push(time(() => ws.labels.set({ caseId, taskId: task.id, value: classes[k % 5], author: 'bench' }))[0]);
  }
  const undos: number[] = [];
  for (let k = 0; k < 200; k++) undos.push(time(() => ws.labels.undo(ids[labelled + k], task.id, 'bench'))[0]);

  const v = ws.versions.add({ taskId: task.id, method: 'dvpt', weights: new Uint8Array(1024) });
  t = performance.now();
  ws.predictions.put(
    v.id,
    ids.map((caseId, k) => {
      const p = [0.1, 0.1, 0.1, 0.1, 0.1];
      p[k % 5] += 0.5 * ((k * 7919) % 100) / 100;
      const sum = p.reduce((a, b) => a + b, 0);
      return { caseId, probabilities: p.map((x) => x / sum) };
    }),
  );
  const predictMs = performance.now() - t;
  ws.suggestions.replace({ taskId: task.id, strategy: 'entropy', versionId: v.id, items: ids.filter((_, k) => k % 100 === 7).map((caseId, k) => ({ caseId, score: 1 / (k + 1) })) });

  console.log(`cases: ${count}, labels: ${labelled + 500}, ${os.cpus().length} CPUs, node ${process.version}`);
  console.log(`insert cases: ${insertMs.toFixed(0)} ms (${((count / insertMs) * 1000).toFixed(0)} cases/s)`);
  console.log(`labels in bulk (setMany ×1000): ${((bulkLabelMs / labelled) * 1000).toFixed(1)} µs per label`);
  console.log(`label one case (set): median ${median(singles).toFixed(3)} ms, max ${Math.max(...singles).toFixed(2)} ms`);
  console.log(`undo one case: median ${median(undos).toFixed(3)} ms`);
  console.log(`predictions for all cases: ${predictMs.toFixed(0)} ms`);
  console.log('\nworklist page of 100 (median of 5 runs, ms):');
  const queries: [string, WorklistQuery][] = [];
  for (const offset of [0, Math.floor(count / 2), count - 100]) queries.push([`all, imported order, offset ${offset}`, { offset }]);
  for (const filter of ['unlabeled', 'labeled', 'suggested', 'disagree', 'quarantined'] as const) {
    queries.push([`${filter}, offset 0`, { filter }]);
  }
  queries.push(['unlabeled, offset 10000', { filter: 'unlabeled', offset: 10_000 }]);
  queries.push(['labeled, offset 25000', { filter: 'labeled', offset: 25_000 }]);
  queries.push(['all, sort uncertainty, offset 0', { sort: 'uncertainty' }]);
  queries.push(['all, sort uncertainty, offset 25000', { sort: 'uncertainty', offset: 25_000 }]);
  queries.push(['suggested, sort rank', { filter: 'suggested', sort: 'rank' }]);
  queries.push(['all, sort rank', { sort: 'rank' }]);
  queries.push(["search 'patient123'", { search: 'patient123' }]);
  queries.push(["search 'acc2000'", { search: 'acc2000' }]);
  queries.push(["unlabeled + search 'ct'", { filter: 'unlabeled', search: 'ct' }]);
  let worst = 0;
  for (const [name, q] of queries) {
    const runs: number[] = [];
    let total = 0;
    for (let r = 0; r < 5; r++) {
      const [ms, res] = time(() => ws.listCases({ taskId: task.id, limit: 100, ...q }));
      runs.push(ms);
      total = res.total;
    }
    worst = Math.max(worst, median(runs));
    console.log(`  ${name.padEnd(38)} ${median(runs).toFixed(1).padStart(7)}   (total ${total})`);
  }
  console.log(`slowest page: ${worst.toFixed(1)} ms`);
  ws.close();
} finally {
  if (keep < 0) fs.rmSync(root, { recursive: true, force: true });
}
