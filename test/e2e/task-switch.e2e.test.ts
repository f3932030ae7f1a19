import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createWorkspaceAndImport, openApp, screenshot, type OpenApp } from '../helpers/browser-mode';
import { DICOM_DIR, FUNDUS_DIR } from '../helpers/paths';

/**
 * Several label tasks in one workspace: a CT task read by series (a DICOMDIR CT study of a 2-slice scout and 5 axial
 * slices) and a referable-DR task on three colour fundus photographs. The header's task switcher moves the worklist,
 * the label bar's classes and the progress count between them, and the choice survives a reload.
 */
const CT_STUDY = path.join(DICOM_DIR, 'pydicom_debian', 'dicomdirtests', '98892001');
const PHOTOS = ['21', '22', '23'].map((n) => path.join(FUNDUS_DIR, 'DRIVE', 'training', 'images', `${n}_training.tif`));

let opened: OpenApp;
let page: Page;
let tmp: string;

/** Polls longer than vitest's 1 s default: the machines these run on are shared and often busy. */
const poll = <T>(read: () => Promise<T> | T) => expect.poll(read, { timeout: 20_000 });
const caseCount = () => page.getByTestId('case-count').textContent();
const progress = () => page.getByTestId('progress-labelled').textContent();
const classButtons = () => page.locator('[data-testid="label-bar"] [data-testid^="class-"]').allTextContents();
/** The case the viewer painted last, and the worklist's highlighted row: the viewer follows the task's worklist. */
const paintedCase = () => page.locator('[data-testid="viewer-canvas"]').getAttribute('data-case-id');
const selectedRow = () => page.locator('[data-testid="case-row"][aria-selected="true"]').getAttribute('data-case-id');
const switcher = () => page.getByTestId('task-switcher');
const chosenTaskName = () => switcher().evaluate((s) => (s as unknown as { selectedOptions: { text: string }[] }).selectedOptions[0]?.text ?? '');

async function createTask(name: string, classes: [string, string], scope: (p: Page) => Promise<void>): Promise<void> {
  await page.getByTestId('task-name').fill(name);
  await page.getByTestId('class-name-0').fill(classes[0]);
  await page.getByTestId('class-name-1').fill(classes[1]);
  await scope(page);
  await page.getByTestId('task-submit').click();
  await poll(() => page.getByTestId('task-summary').filter({ hasText: name }).count()).toBe(1);
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-e2e-tasks-'));
  opened = await openApp();
  page = opened.page;
  await createWorkspaceAndImport(page, path.join(tmp, 'ws'), [CT_STUDY, ...PHOTOS]);
});

afterAll(async () => {
  await opened?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('switching between label tasks', () => {
  it('creates a CT series task and then a fundus task, which becomes the one being read', async () => {
    await createTask('CT series', ['normal', 'abnormal'], async (p) => {
      await p.getByTestId('task-scope-modality-CT').check();
      await p.getByTestId('task-case-unit').selectOption('series');
    });
    await createTask('Referable DR', ['no', 'yes'], async (p) => {
      await p.getByTestId('task-scope-kind').selectOption('photo');
      await p.getByTestId('task-scope-colour').selectOption('colour');
    });
    expect(await page.getByTestId('task-summary').count()).toBe(2);
    expect(await page.getByTestId('task-summary').filter({ hasText: 'Referable DR' }).getByTestId('task-current').count()).toBe(1);
    expect(await switcher().locator('option').allTextContents()).toEqual(['CT series (multiclass)', 'Referable DR (multiclass)']);
    await poll(chosenTaskName).toBe('Referable DR (multiclass)');
    await screenshot(page, '70-two-tasks-editor');
  });

  it('reads the fundus task: photos in the worklist, its classes in the label bar, its progress', async () => {
    await page.getByTestId('tab-reading').click();
    await poll(caseCount).toContain('3 cases');
    await poll(classButtons).toEqual([expect.stringContaining('no'), expect.stringContaining('yes')]);
    await poll(progress).toBe('0 / 3');
    await page.getByTestId('class-yes').click();
    await poll(() => page.getByTestId('current-label').textContent()).toBe('yes');
    await poll(progress).toBe('1 / 3');
    await poll(paintedCase).toBe(await selectedRow());
    expect(await page.getByTestId('stack-model-input').count()).toBe(0);
    await screenshot(page, '71-task-fundus');
  });

  it('switching to the CT task changes the worklist, the classes and the progress count', async () => {
    await switcher().selectOption({ label: 'CT series (multiclass)' });
    await poll(caseCount).toContain('2 cases');
    await poll(classButtons).toEqual([expect.stringContaining('normal'), expect.stringContaining('abnormal')]);
    await poll(progress).toBe('0 / 2');
    await poll(() => page.getByTestId('current-label').textContent()).toBe('unlabeled');
    const names = await page.locator('[data-testid="case-row"] .wl-name').allTextContents();
    expect(names.some((n) => n.includes('_training.tif'))).toBe(false);
    const first = await selectedRow();
    expect(first).toBe(await page.locator('[data-testid="case-row"]').first().getAttribute('data-case-id'));
    await poll(paintedCase).toBe(first);
    // The viewer's model line is the series task's: which slice of the series the model reads.
    await poll(() => page.getByTestId('stack-model-input').textContent()).toContain('Model input: the middle slice');
    await screenshot(page, '72-task-ct-series');
  });

  it('the choice survives a reload, and switching back shows the fundus label again', async () => {
    await page.reload();
    await poll(chosenTaskName).toBe('CT series (multiclass)');
    await poll(caseCount).toContain('2 cases');
    await poll(classButtons).toEqual([expect.stringContaining('normal'), expect.stringContaining('abnormal')]);
    await poll(progress).toBe('0 / 2');

    await switcher().selectOption({ label: 'Referable DR (multiclass)' });
    await poll(caseCount).toContain('3 cases');
    await poll(progress).toBe('1 / 3');
    await poll(() => page.getByTestId('current-label').textContent()).toBe('yes');
    await page.reload();
    await poll(chosenTaskName).toBe('Referable DR (multiclass)');
    await poll(caseCount).toContain('3 cases');
    await poll(paintedCase).toBe(await selectedRow());
    await screenshot(page, '73-task-after-reload');
  });

  it('the grouped worklist follows a switch too', async () => {
    const seriesRows = () => page.getByTestId('group-series').allTextContents();
    await page.getByTestId('group-by-study').check();
    // The photos have no series of their own: they group by their synthetic series, never as the CT ones.
    await poll(async () => (await seriesRows()).length).toBeGreaterThan(0);
    expect((await seriesRows()).some((r) => r.includes('CT'))).toBe(false);
    await screenshot(page, '74-task-fundus-grouped');
    await switcher().selectOption({ label: 'CT series (multiclass)' });
    await poll(seriesRows).toEqual([expect.stringContaining('series 4'), expect.stringContaining('series 5')]);
    await screenshot(page, '75-task-ct-grouped');
    await page.getByTestId('group-by-study').uncheck();
    expect(opened.consoleErrors).toEqual([]);
  });
});
