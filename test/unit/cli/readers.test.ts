import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Workspace } from '../../../core/store';
import { runCli } from '../../helpers/cli';
import { tempDir, tinyDicomSet, writeDicomFiles } from '../store/helpers/fixtures';

describe('medtune readers and medtune agreement', () => {
  it('add and list profiles, then print the agreement tables of a double-read task', async () => {
    const root = tempDir('medtune-cli-readers-');
    writeDicomFiles(path.join(root, 'in'), tinyDicomSet(6, { perSeries: 3 }));
    const dir = path.join(root, 'ws');
    const ws = Workspace.create(dir);
    const ids = (await ws.import([path.join(root, 'in')])).caseIds;
    const task = ws.tasks.create({ name: 'dr', kind: 'multiclass', classes: ['none', 'mild', 'severe'] });
    ws.tasks.updateSettings(task.id, { readsPerCase: 2 });
    ws.close();

    process.env.MEDTUNE_TEST_PIN = '13579';
    expect(await runCli(['readers', 'add', 'ann', '-w', dir])).toMatchObject({ code: 0, out: 'added ann (reader)\n' });
    expect(await runCli(['readers', 'add', 'bob', '-w', dir, '--role', 'reviewer', '--pin-env', 'MEDTUNE_TEST_PIN'])).toMatchObject({
      code: 0,
      out: 'added bob (reviewer, PIN)\n',
    });
    expect((await runCli(['readers', 'add', 'ann', '-w', dir])).code).toBe(1);
    expect((await runCli(['readers', 'add', 'cy', '-w', dir, '--role', 'boss'])).code).toBe(2);
    const list = await runCli(['readers', 'list', '-w', dir]);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^ann\s+reader\s+no /m);
    expect(list.out).toMatch(/^bob\s+reviewer\s+yes/m);

    const again = Workspace.open(dir);
    const ann = ['none', 'mild', 'severe', 'none', 'mild', 'none'];
    const bob = ['none', 'mild', 'severe', 'mild', 'mild', 'none'];
    ids.forEach((caseId, i) => {
      again.reads.submit({ taskId: task.id, caseId, reader: 'ann', value: ann[i] });
      again.reads.submit({ taskId: task.id, caseId, reader: 'bob', value: bob[i] });
    });
    again.close();

    const text = await runCli(['agreement', '-w', dir, '--task', 'dr']);
    expect(text.code).toBe(0);
    expect(text.out).toContain('task dr: 2 reader(s)');
    expect(text.out).toMatch(/^ann – bob\s+6\s+0\.\d{3}/m);
    expect(text.out).toContain('83.3%'); // 5 of 6 cases agree
    expect(text.out).toContain('active model – reader: no active version');
    const json = JSON.parse((await runCli(['agreement', '-w', dir, '--task', 'dr', '--json'])).out) as { pairs: { percent: { value: number } }[] };
    expect(json.pairs[0].percent.value).toBeCloseTo(5 / 6, 12);
    expect((await runCli(['agreement', '-w', dir, '--task', 'nope'])).code).toBe(1);
  });
});
