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
    // A new PIN ends a lockout from wrong PINs; --remove takes the PIN away; one of the two is needed.
    const locked = Workspace.open(dir);
    for (let i = 0; i < 6; i++) locked.readers.attemptPin('bob', '0000');
    expect(locked.readers.attemptPin('bob', '13579')).toMatchObject({ ok: false, reason: 'locked' });
    locked.close();
    process.env.MEDTUNE_TEST_PIN2 = '24680';
    expect(await runCli(['readers', 'pin', 'bob', '-w', dir, '--pin-env', 'MEDTUNE_TEST_PIN2'])).toMatchObject({ code: 0, out: 'bob: new PIN set; wrong-PIN count cleared\n' });
    const unlocked = Workspace.open(dir);
    expect(unlocked.readers.attemptPin('bob', '24680')).toEqual({ ok: true });
    unlocked.close();
    expect((await runCli(['readers', 'pin', 'bob', '-w', dir])).code).toBe(2);
    expect((await runCli(['readers', 'pin', 'bob', '-w', dir, '--pin-env', 'MEDTUNE_UNSET_PIN_VAR'])).code).toBe(2);
    expect((await runCli(['readers', 'pin', 'nobody', '-w', dir, '--remove'])).code).toBe(1);
    expect(await runCli(['readers', 'pin', 'bob', '-w', dir, '--remove'])).toMatchObject({ code: 0, out: 'bob: PIN removed; wrong-PIN count cleared\n' });
    process.env.MEDTUNE_TEST_PIN2 = '';
    expect(await runCli(['readers', 'pin', 'bob', '-w', dir, '--pin-env', 'MEDTUNE_TEST_PIN'])).toMatchObject({ code: 0, out: 'bob: new PIN set; wrong-PIN count cleared\n' });

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

  it('prints Dice tables for a segmentation task read by two readers', async () => {
    const root = tempDir('medtune-cli-readers-');
    writeDicomFiles(path.join(root, 'in'), tinyDicomSet(2, { perSeries: 2 }).map((d) => ({ ...d, rows: 8, columns: 10 })));
    const dir = path.join(root, 'ws');
    const ws = Workspace.create(dir);
    const ids = (await ws.import([path.join(root, 'in')])).caseIds;
    const task = ws.tasks.create({ name: 'vessels', kind: 'segmentation', classes: ['vessel'] });
    ws.tasks.updateSettings(task.id, { readsPerCase: 2 });
    const band = (from: number, to: number) => Uint8Array.from({ length: 80 }, (_, i) => (i % 10 >= from && i % 10 < to ? 1 : 0));
    // Case 1: columns 0–3 against 2–5 (Dice 2·2/(4 + 4) = 0.5); case 2: identical (1).
    for (const [caseId, reader, labels] of [[ids[0], 'ann', band(0, 4)], [ids[0], 'bob', band(2, 6)], [ids[1], 'ann', band(0, 4)], [ids[1], 'bob', band(0, 4)]] as const) {
      const e = ws.masks.save({ taskId: task.id, caseId, frame: 0, rows: 8, columns: 10, labels, author: reader });
      ws.reads.submit({ taskId: task.id, caseId, reader, value: { maskSha256: e.sha256, rows: 8, columns: 10 } });
    }
    ws.close();
    const text = await runCli(['agreement', '-w', dir, '--task', 'vessels']);
    expect(text.code).toBe(0);
    expect(text.out).toContain('reader – reader (Dice, cases both painted)');
    expect(text.out).toMatch(/^ann – bob\s+2\s+0\.750 \[0\.500, 1\.000\]/m);
    expect(text.out).not.toContain('Fleiss');
  });
});
