import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createWorkspaceAndImport, openApp, screenshot, type OpenApp } from '../helpers/browser-mode';
import { DICOM_DIR, FUNDUS_DIR } from '../helpers/paths';

/** CT, MR and ultrasound DICOM, three colour fundus photographs and a greyscale vessel mask (a GIF photo). */
const DICOM = [
  path.join(DICOM_DIR, 'pydicom_debian', 'CT_small.dcm'),
  path.join(DICOM_DIR, 'octave_dicom_debian', 'CT-MONO2-16-ankle.dcm'),
  path.join(DICOM_DIR, 'pydicom_debian', 'MR_small.dcm'),
];
const PHOTOS = ['21', '22', '23'].map((n) => path.join(FUNDUS_DIR, 'DRIVE', 'training', 'images', `${n}_training.tif`));
const MASK = path.join(FUNDUS_DIR, 'DRIVE', 'training', '1st_manual', '21_manual1.gif');

let opened: OpenApp;
let page: Page;
let tmp: string;

const rowNames = () => page.locator('[data-testid="case-row"] .wl-name').allTextContents();

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-e2e-scope-'));
  opened = await openApp();
  page = opened.page;
});

afterAll(async () => {
  await opened?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('a task scoped to colour photographs', () => {
  it('imports DICOM and photos into a new workspace', async () => {
    await createWorkspaceAndImport(page, path.join(tmp, 'ws'), [...DICOM, ...PHOTOS, MASK]);
    expect(await page.getByTestId('import-imported').textContent()).toContain(`${DICOM.length + PHOTOS.length + 1} imported`);
  });

  it('offers the modalities present and creates the task with a scope in the TaskEditor', async () => {
    // Modality checkboxes come from the workspace: CT, MR and XC (the photos).
    for (const m of ['CT', 'MR', 'XC']) await page.getByTestId(`task-scope-modality-${m}`).waitFor();
    expect(await page.getByTestId('task-scope-modality-US').count()).toBe(0);
    await page.getByTestId('task-name').fill('Referable DR');
    await page.getByTestId('class-name-0').fill('no');
    await page.getByTestId('class-name-1').fill('yes');
    await page.getByTestId('task-scope-kind').selectOption('photo');
    await page.getByTestId('task-scope-colour').selectOption('colour');
    await page.getByTestId('task-submit').click();
    await page.getByTestId('task-summary').waitFor();
    expect(await page.getByTestId('task-scope-summary').textContent()).toMatch(/photographs, colour · one case per image/);
    await screenshot(page, '40-task-scope-editor');
  });

  it('the worklist shows only the colour photographs', async () => {
    await page.getByTestId('tab-reading').click();
    await expect.poll(() => page.getByTestId('case-count').textContent()).toContain(`${PHOTOS.length} cases`);
    await expect.poll(async () => (await rowNames()).sort()).toEqual(PHOTOS.map((p) => path.basename(p)).sort());
    await screenshot(page, '41-worklist-colour-photos');
  });

  it('editing the scope later changes the worklist: greyscale DICOM only', async () => {
    await page.getByTestId('tab-settings').click();
    await page.getByTestId('task-edit-scope').click();
    await page.getByTestId('edit-scope-kind').selectOption('dicom');
    await page.getByTestId('edit-scope-colour').selectOption('greyscale');
    await page.getByTestId('task-scope-save').click();
    await expect.poll(() => page.getByTestId('task-scope-summary').textContent()).toMatch(/DICOM, greyscale/);
    await page.getByTestId('tab-reading').click();
    await expect.poll(() => page.getByTestId('case-count').textContent()).toContain(`${DICOM.length} cases`);
    await expect.poll(async () => (await rowNames()).sort()).toEqual(DICOM.map((p) => path.basename(p)).sort());
    expect(opened.consoleErrors).toEqual([]);
  });
});
