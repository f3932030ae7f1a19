import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createWorkspaceAndImport, openApp, screenshot, type OpenApp } from '../helpers/browser-mode';
import { DICOM_DIR, FUNDUS_DIR } from '../helpers/paths';

/**
 * Mask files from the UI (issue 16 follow-up): the Mask files card imports DRIVE's manual-mask folder, matched to
 * the photographs by name, and reports the rest; the paint keys are in the help overlay and the tool tooltips.
 */
const DRIVE = path.join(FUNDUS_DIR, 'DRIVE', 'training');
const MANUAL = path.join(DRIVE, '1st_manual');
const CT = path.join(DICOM_DIR, 'pydicom_debian', 'CT_small.dcm');

let opened: OpenApp;
let page: Page;
let tmp: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-e2e-maskfiles-'));
  opened = await openApp();
  page = opened.page;
  // Two DRIVE photographs and a CT slice that no manual mask is named after.
  await createWorkspaceAndImport(page, path.join(tmp, 'ws'), [...[21, 22].map((n) => path.join(DRIVE, 'images', `${n}_training.tif`)), CT]);
});

afterAll(async () => {
  await opened?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('mask files and paint keys in Chromium', () => {
  it('imports a folder of manual masks matched by file name, with a report, and exports them', async () => {
    await page.getByTestId('task-name').fill('Vessels');
    await page.getByTestId('task-kind').selectOption('segmentation');
    await page.getByTestId('class-name-0').fill('vessel');
    await page.getByTestId('task-submit').click();
    await page.getByTestId('mask-files').waitFor();
    await page.getByTestId('mask-import-paths').fill(MANUAL);
    await page.getByTestId('mask-import-submit').click();
    const report = page.getByTestId('mask-import-report');
    await report.waitFor();
    expect(await report.textContent()).toContain('2 imported, 18 unmatched, 0 refused');
    expect(await page.getByTestId('mask-import-matched').allTextContents()).toEqual(['21_training.tif ← 21_manual1.gif', '22_training.tif ← 22_manual1.gif']);
    expect(await page.getByTestId('mask-import-unmatched').first().textContent()).toBe("23_manual1.gif: no case is named like '23_manual1'");
    // The imported masks label their cases: the header counts them.
    await expect.poll(() => page.getByTestId('progress-count').textContent()).toMatch(/2 \/ 3\s*labelled/);
    const out = path.join(tmp, 'out');
    await page.getByTestId('mask-export-dir').fill(out);
    await page.getByTestId('mask-export-submit').click();
    await page.getByTestId('mask-export-report').waitFor();
    expect(await page.getByTestId('mask-export-report').textContent()).toContain('2 written, 0 skipped'); // the CT slice has no mask
    expect(fs.readdirSync(out).sort()).toEqual(['21_training-mask.png', '22_training-mask.png']);
    await page.getByTestId('mask-files').scrollIntoViewIfNeeded();
    await screenshot(page, 'segmentation-90-mask-files');
    expect(opened.consoleErrors).toEqual([]);
  });

  it('lists the paint keys in the help overlay and the tool tooltips, and Shift+letter picks a tool', async () => {
    await page.getByTestId('tab-reading').click();
    await page.getByTestId('paint-toolbar').waitFor();
    // The keys act on a loaded mask: the first case's image and its imported vessel mask.
    await expect.poll(() => page.locator('[data-testid="mask-layer"]').getAttribute('data-foreground'), { timeout: 60_000 }).not.toBe('0');
    expect(await page.getByTestId('paint-brush').getAttribute('title')).toContain('Shift+B');
    expect(await page.getByTestId('paint-fill-holes').getAttribute('title')).toContain('Shift+H');
    await page.keyboard.press('Shift+E');
    expect(await page.getByTestId('paint-eraser').getAttribute('aria-checked')).toBe('true');
    await page.keyboard.press('Shift+B');
    expect(await page.getByTestId('paint-brush').getAttribute('aria-checked')).toBe('true');
    await page.keyboard.press('?');
    await page.getByTestId('help').waitFor();
    const help = (await page.getByTestId('help').textContent()) ?? '';
    expect(help).toContain('Painting');
    for (const text of ['Shift+B', 'Shift+E', 'Shift+F', 'Shift+L', 'Shift+H', 'Undo the last stroke', 'Ctrl+Y / Ctrl+Shift+Z']) expect(help).toContain(text);
    await screenshot(page, 'segmentation-91-help-paint-keys');
    expect(opened.consoleErrors).toEqual([]);
  });
});
