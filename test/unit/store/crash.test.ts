import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Workspace } from '../../../core/store';
import { REPO_ROOT } from '../../helpers/paths';
import { tempDir, tinyDicomSet, writeDicomFiles } from './helpers/fixtures';
import { databaseOf } from '../../../core/store/workspace';

const SCRIPT = path.join(REPO_ROOT, 'test', 'unit', 'store', 'helpers', 'slow-import.ts');

/** Runs the slow importer and SIGKILLs it once it has reported `killAfter` files. */
function importAndKill(wsDir: string, input: string, killAfter: number): Promise<{ signal: NodeJS.Signals | null; seen: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, wsDir, input], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = 0;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      for (const m of d.toString().matchAll(/done (\d+)/g)) seen = Math.max(seen, Number(m[1]));
      if (seen >= killAfter && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => (signal ? resolve({ signal, seen }) : reject(new Error(`child exited ${code} before the kill: ${stderr}`))));
  });
}

describe('an import killed part-way', () => {
  it('leaves a consistent workspace that a re-run completes', async () => {
    const root = tempDir();
    const input = path.join(root, 'in');
    writeDicomFiles(input, tinyDicomSet(240, { perSeries: 12 }));
    const wsDir = path.join(root, 'ws');
    Workspace.create(wsDir).close();

    const { signal, seen } = await importAndKill(wsDir, input, 90);
    expect(signal).toBe('SIGKILL');
    expect(seen).toBeGreaterThanOrEqual(90);
    expect(seen).toBeLessThan(240);

    const ws = Workspace.open(wsDir);
    expect(databaseOf(ws).pragma('integrity_check', { simple: true })).toBe('ok');
    expect(databaseOf(ws).pragma('foreign_key_check')).toEqual([]);
    const cases = ws.cases.all();
    // Whole batches only: every case has its instance and a complete blob file.
    expect(cases.length).toBeGreaterThan(0);
    expect(cases.length).toBeLessThan(240);
    for (const c of cases) {
      expect(fs.existsSync(c.blobPath)).toBe(true);
      expect(ws.cases.bytes(c.id).length).toBeGreaterThan(132);
    }
    const instances = (databaseOf(ws).prepare('SELECT count(*) AS n FROM instances').get() as { n: number }).n;
    expect(instances).toBe(cases.length);

    const rest = await ws.import([input]);
    expect(rest).toMatchObject({ imported: 240 - cases.length, duplicates: cases.length, failed: 0 });
    expect(ws.info().caseCount).toBe(240);
    expect(databaseOf(ws).pragma('integrity_check', { simple: true })).toBe('ok');
    ws.close();
  });
});
