import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv, Workspace } from '../../../core/store';
import { REPO_ROOT } from '../../helpers/paths';
import { tempDir, tinyDicomSet, writeDicomFiles } from './helpers/fixtures';

function medtune(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'medtune.mjs'), ...args], { encoding: 'utf8', cwd: REPO_ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('medtune CLI: workspace, import, label, export', () => {
  it('runs the whole flow and fails clearly on bad input', () => {
    const root = tempDir();
    const ws = path.join(root, 'ws');
    writeDicomFiles(path.join(root, 'in'), tinyDicomSet(5));
    fs.writeFileSync(path.join(root, 'in', 'broken.dcm'), 'DICM? no');

    expect(medtune('workspace', 'init', ws).code).toBe(0);
    const again = medtune('workspace', 'init', ws);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not empty/);

    const imp = medtune('import', path.join(root, 'in'), '--workspace', ws);
    expect(imp.stdout).toMatch(/imported 5, duplicates 0, skipped 0, failed 1 \(of 6 files\)/);
    expect(imp.stdout).toMatch(/failed: .*broken\.dcm: /);
    expect(imp.stderr).toMatch(/import 6\/6/);
    expect(imp.code).toBe(3); // done, but a file was quarantined: reported in the exit code

    const info = JSON.parse(medtune('workspace', 'info', ws).stdout);
    expect(info).toMatchObject({ caseCount: 5, quarantined: 1, tasks: [] });

    const csv = path.join(root, 'labels.csv');
    fs.writeFileSync(csv, 'file,label\nim00000.dcm,yes\nim00001.dcm,no\n');
    const noTask = medtune('label', '--workspace', ws, '--task', 'finding', '--csv', csv);
    expect(noTask.code).toBe(1);
    expect(noTask.stderr).toMatch(/No label task named 'finding'/);
    const lab = medtune('label', '--workspace', ws, '--task', 'finding', '--csv', csv, '--classes', 'yes,no', '--author', 'dr-x');
    expect(lab.code).toBe(0);
    expect(lab.stdout).toMatch(/created task 'finding'\nlabelled 2 case\(s\)/);

    const out = medtune('export', 'labels', '--workspace', ws, '--task', 'finding', '--format', 'json');
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout).labels.map((l: { label: string; author: string }) => [l.label, l.author])).toEqual([
      ['yes', 'dr-x'],
      ['no', 'dr-x'],
    ]);
    // Usage errors exit 2; a missing workspace or file exits 1 naming it.
    expect(medtune('export', 'labels', '-w', ws, '--task', 'finding', '--format', 'xml').code).toBe(2);
    expect(medtune('import', path.join(root, 'in')).code).toBe(2);
    const missing = medtune('workspace', 'info', path.join(root, 'nope'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope is not a MedTune workspace/);
    const noPath = medtune('import', path.join(root, 'absent'), '-w', ws);
    expect(noPath.code).toBe(1);
    expect(noPath.stderr).toMatch(/absent: no such file or folder/);
  });

  it('exports the measurements beside a CSV, or per case in JSON', async () => {
    const root = tempDir();
    writeDicomFiles(path.join(root, 'in'), tinyDicomSet(2));
    const dir = path.join(root, 'ws');
    const ws = Workspace.create(dir);
    const [first] = (await ws.import([path.join(root, 'in')])).caseIds;
    ws.tasks.create({ name: 'finding', kind: 'multiclass', classes: ['yes', 'no'] });
    ws.measurements.add({ caseId: first, frame: 0, kind: 'length', points: [[0, 0], [3, 4]], author: 'dr-x' });
    ws.close();

    const file = path.join(root, 'measurements.csv');
    const csv = medtune('export', 'labels', '-w', dir, '--task', 'finding', '--measurements', file, '--deidentify');
    expect(csv.code).toBe(0);
    expect(csv.stderr).toMatch(/wrote 1 measurement\(s\) to .*measurements\.csv/);
    const table = parseCsv(fs.readFileSync(file, 'utf8'));
    expect(table.header).toContain('patient_pseudonym');
    expect(table.header).not.toContain('patient_id');
    const row = Object.fromEntries(table.header.map((h, i) => [h, table.rows[0].cells[i]]));
    // The tiny test files carry no pixel spacing: the length is in pixels, and says so.
    expect(row).toMatchObject({ case_id: String(first), kind: 'length', value: '5', unit: 'px', spacing: 'none (pixels)', author: 'Reader 1' });

    const json = medtune('export', 'labels', '-w', dir, '--task', 'finding', '--format', 'json');
    expect(JSON.parse(json.stdout).measurements).toMatchObject([{ case_id: first, measurements: [{ kind: 'length', value: 5, author: 'dr-x' }] }]);
    expect(medtune('export', 'labels', '-w', dir, '--task', 'finding', '--format', 'json', '--measurements', file).code).toBe(2);
  });
});
