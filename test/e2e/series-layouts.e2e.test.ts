import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createWorkspaceAndImport, openApp, screenshot, type OpenApp } from '../helpers/browser-mode';
import sharp from 'sharp';
import { DICOM_DIR, FUNDUS_DIR } from '../helpers/paths';

/**
 * Studies and series (issue 17 §1 and §5): the worklist grouped patient → study → series, a series scrolled as one
 * stack (wheel, arrows, PgUp/PgDn, Ctrl+wheel zoom) and side-by-side layouts with hanging rules. Real server, real
 * Chromium, a real DICOMDIR test set: patient 98890234 has a CT study (2001: a 2-slice scout, series 4, and 5 axial
 * slices, series 5) and three MR studies of 2003. Two DRIVE fundus photos, resized into PNGs whose names state the
 * eye (OD, OS), make one visit for the fundus hanging rule.
 */
const DIRTESTS = path.join(DICOM_DIR, 'pydicom_debian', 'dicomdirtests');
const CANVAS = '[data-testid="viewer-canvas"]';

let opened: OpenApp;
let page: Page;
let tmp: string;

/** Polls longer than vitest's 1 s default: the machines these run on are shared and often busy. */
const poll = <T>(read: () => Promise<T> | T) => expect.poll(read, { timeout: 20_000 });
const sliceText = () => page.getByTestId('stack-slice').textContent();
const paintedCase = () => page.locator(CANVAS).getAttribute('data-case-id');

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-e2e-series-'));
  opened = await openApp();
  page = opened.page;
  const eyes = path.join(tmp, 'visit');
  fs.mkdirSync(eyes);
  const images = path.join(FUNDUS_DIR, 'DRIVE', 'training', 'images');
  await sharp(path.join(images, '21_training.tif')).resize(282).png().toFile(path.join(eyes, 'visit1_OD.png'));
  await sharp(path.join(images, '22_training.tif')).resize(282).png().toFile(path.join(eyes, 'visit1_OS.png'));
  await createWorkspaceAndImport(page, path.join(tmp, 'ws'), [path.join(DIRTESTS, '98892001'), path.join(DIRTESTS, '98892003'), eyes]);
  await page.getByTestId('tab-reading').click();
});

afterAll(async () => {
  await opened?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('worklist grouped by patient, study and series', () => {
  it('groups with counts, collapses, and keeps n / p moving through the series', async () => {
    await poll(() => page.getByTestId('case-count').textContent()).toContain('26 cases');
    await page.getByTestId('group-by-study').check();
    await page.getByTestId('group-patient').first().waitFor();
    const patient = page.getByTestId('group-patient').filter({ hasText: '98890234' });
    expect(await page.getByTestId('group-patient').count()).toBe(2);
    expect(await patient.getByTestId('group-count').textContent()).toBe('24');
    // Newest study first: the three MR studies of 2003, then the CT study of 2001.
    const studies = await page.getByTestId('group-study').allTextContents();
    expect(studies.filter((s) => /200[13]-/.test(s))).toHaveLength(4);
    const ct = page.getByTestId('group-study').filter({ hasText: '2001-01-01' });
    expect(await ct.textContent()).toMatch(/2001-01-01.*7/);
    const seriesBefore = await page.getByTestId('group-series').count();
    await ct.click();
    expect(await page.getByTestId('group-series').count()).toBe(seriesBefore - 2);
    await ct.click();
    expect(await page.getByTestId('group-series').count()).toBe(seriesBefore);
    // Thumbnails arrive for the series rows.
    await poll(() => page.locator('[data-testid="group-series"] canvas').first().evaluate((c) => (c as unknown as { width: number }).width)).toBeGreaterThan(0);
    await screenshot(page, '60-worklist-grouped');

    const axial = page.getByTestId('group-series').filter({ hasText: 'series 5' });
    await axial.click();
    await poll(paintedCase).toBe(await axial.getAttribute('data-case-id'));
    await page.keyboard.press('p');
    await poll(() => page.locator('[data-testid="group-series"][aria-selected="true"]').textContent()).toContain('series 4');
    await page.keyboard.press('n');
    await poll(() => page.locator('[data-testid="group-series"][aria-selected="true"]').textContent()).toContain('series 5');
  });
});

describe('a series scrolls as one stack', () => {
  it('wheel and arrows step slices in position order, Ctrl+wheel zooms, PgUp/PgDn change series', async () => {
    // The series opened at its middle case: instance 8 of 6…10, the third slice from the top.
    await poll(sliceText).toBe('Slice 3/5');
    expect(await page.getByTestId('stack-info').textContent()).toMatch(/CT series 5.*2 of 2 in study.*sorted by position/);
    const first = await paintedCase();
    const box = (await page.locator(CANVAS).boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, 100);
    await poll(sliceText).toBe('Slice 4/5');
    await poll(paintedCase).not.toBe(first);
    expect(await page.getByTestId('overlay-frame').textContent()).toContain('Slice 4/5');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    // The stack stops at its ends, as in OHIF.
    await poll(sliceText).toBe('Slice 5/5');
    await page.mouse.wheel(0, -100);
    await page.mouse.wheel(0, -100);
    await page.mouse.wheel(0, -100);
    await page.mouse.wheel(0, -100);
    await poll(sliceText).toBe('Slice 1/5');
    await page.keyboard.press('ArrowDown');
    await poll(sliceText).toBe('Slice 2/5');
    await page.keyboard.down('Control');
    await page.mouse.wheel(0, -100);
    await page.keyboard.up('Control');
    await poll(() => page.locator('.corner.br').textContent()).toContain('Zoom 110%');
    expect(await sliceText()).toBe('Slice 2/5');
    await screenshot(page, '61-series-stack');

    await page.keyboard.press('PageUp');
    await poll(() => page.getByTestId('stack-info').textContent()).toMatch(/CT series 4.*1 of 2 in study/);
    expect(await sliceText()).toMatch(/Slice \d\/2/);
    await page.keyboard.press('PageUp');
    await poll(() => page.getByTestId('stack-info').textContent()).toMatch(/series 4/);
    await page.keyboard.press('PageDown');
    await poll(() => page.getByTestId('stack-info').textContent()).toMatch(/CT series 5.*2 of 2 in study/);
    await poll(sliceText).toBe('Slice 3/5');
  });
});

describe('side-by-side layouts', () => {
  it('1×2 with the radiology rule hangs the latest prior study beside the current one; a click makes it active', async () => {
    // The MR angiography series of 04:53; the study of 02:51 the same day is its latest prior.
    await page.getByTestId('group-series').filter({ hasText: 'series 700' }).click();
    await poll(() => page.getByTestId('stack-info').textContent()).toMatch(/MR series 700/);
    const current = await paintedCase();
    await page.getByTestId('layout-1x2').click();
    await page.getByTestId('hanging-rule').selectOption('prior');
    const passive = page.getByTestId('viewport-passive');
    await poll(() => passive.getAttribute('data-case-id')).not.toBe('');
    expect(await page.getByTestId('viewport-note').textContent()).toBe('Prior study of 20030505, MR series 1 FAST LOCALIZER');
    // The active viewport (outlined) holds the full viewer with the current case.
    expect(await page.getByTestId('viewport-active').locator(CANVAS).getAttribute('data-case-id')).toBe(current);
    const outline = await page
      .getByTestId('viewport-active')
      .evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { outlineStyle: string } }).getComputedStyle(el).outlineStyle);
    expect(outline).toBe('solid');
    // Synchronised zoom: the prior follows the current viewport's zoom.
    const prior = await passive.getAttribute('data-case-id');
    await screenshot(page, '62-layout-1x2-prior');
    await passive.click();
    await poll(() => page.getByTestId('viewport-active').locator(CANVAS).getAttribute('data-case-id')).toBe(prior);
    await poll(() => page.getByTestId('viewport-passive').getAttribute('data-case-id')).toBe(current);
    await page.getByTestId('layout-1x1').click();
    expect(await page.getByTestId('viewport-passive').count()).toBe(0);
  });

  it('1×2 with the fundus rule hangs the other eye of the same visit', async () => {
    await page.getByTestId('group-by-study').uncheck();
    await page.getByTestId('search').fill('visit1_OD');
    await page.getByTestId('search').press('Enter');
    await poll(() => page.getByTestId('case-count').textContent()).toContain('1 case');
    await page.getByTestId('search').press('Escape');
    const od = page.locator('[data-testid="case-row"]').first();
    const odId = await od.getAttribute('data-case-id');
    await od.click();
    await poll(paintedCase).toBe(odId);
    await page.getByTestId('layout-1x2').click();
    await page.getByTestId('hanging-rule').selectOption('fundus');
    await poll(() => page.getByTestId('viewport-note').textContent()).toBe('OS (left eye) of the same visit beside OD (right eye)');
    await poll(() => page.getByTestId('viewport-passive').getAttribute('data-case-id')).not.toBe('');
    expect(await page.getByTestId('viewport-passive').getAttribute('data-case-id')).not.toBe(odId);
    // OD | OS: the right eye hangs on the left.
    expect(await page.getByTestId('viewport-grid').locator('> div').first().getAttribute('data-testid')).toBe('viewport-active');
    await screenshot(page, '63-layout-1x2-fundus');
    // Opened on the left eye, the right eye still hangs on the left and the left eye (active) on the right.
    await page.getByTestId('search').fill('visit1_OS');
    // Search as you type: the list follows without Enter (the count is 1 before and after, so wait for the name).
    await poll(() => page.locator('[data-testid="case-row"]').first().textContent()).toContain('visit1_OS');
    const os = page.locator('[data-testid="case-row"]').first();
    await os.click();
    await poll(() => page.getByTestId('viewport-note').textContent()).toBe('OD (right eye) of the same visit beside OS (left eye)');
    await poll(() => page.getByTestId('viewport-grid').locator('> div').first().getAttribute('data-testid')).toBe('viewport-cell');
    await poll(() => page.getByTestId('viewport-passive').getAttribute('data-case-id')).toBe(odId);
    await screenshot(page, '63b-layout-1x2-fundus-os-opened');
    // 2×2: the active viewport and three others (the other eye, then whatever follows in the worklist).
    await page.getByTestId('layout-2x2').click();
    await poll(() => page.getByTestId('viewport-cell').count()).toBe(3);
    expect(await page.getByTestId('viewport-active').count()).toBe(1);
  });
});

describe('a series task', () => {
  it('states which slice is the model input and goes there on a click', async () => {
    await page.getByTestId('layout-1x1').click();
    // The task is made through the app's own API; a reload shows it (the session keeps the workspace open).
    await page.evaluate(async () => {
      const api = (globalThis as unknown as { medtune: { invoke(c: string, r: unknown): Promise<{ ok: boolean }> } }).medtune;
      const made = await api.invoke('tasks.create', {
        name: 'ct-series',
        kind: 'multiclass',
        classes: [{ name: 'normal', color: '#3fb950' }, { name: 'abnormal', color: '#f85149' }],
        caseUnit: 'series',
        scope: { modalities: ['CT'] },
      });
      if (!made.ok) throw new Error('tasks.create failed');
    });
    await page.reload();
    await page.getByTestId('group-by-study').check();
    const axial = page.getByTestId('group-series').filter({ hasText: 'series 5' });
    // One case per series now: its representative, the middle slice by instance number.
    await poll(() => axial.textContent());
    expect(await axial.textContent()).toContain('1 case');
    await axial.click();
    await poll(sliceText).toBe('Slice 3/5');
    expect(await page.getByTestId('stack-model-input').textContent()).toContain('Model input: the middle slice by instance number — slice 3');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await poll(sliceText).toBe('Slice 5/5');
    await screenshot(page, '64-series-task-model-input');
    await page.getByTestId('stack-model-input').click();
    await poll(sliceText).toBe('Slice 3/5');
    // The flat list has one row per CT series, saying how many images it stands for; the header counts those rows.
    await page.getByTestId('group-by-study').uncheck();
    await poll(() => page.getByTestId('case-row').filter({ hasText: '5 images' }).count()).toBe(1);
    // The highlighted row is the series on screen (opened from the groups), never another one.
    expect(await page.locator('[data-testid="case-row"][aria-selected="true"]').textContent()).toContain('5 images');
    const rows = Number((await page.getByTestId('case-count').textContent())!.match(/(\d+) cases?/)![1]);
    expect(await page.getByTestId('unit-size').count()).toBe(rows);
    await poll(() => page.getByTestId('progress-labelled').textContent()).toBe(`0 / ${rows}`);
    await screenshot(page, '65-series-task-flat-list');
  });
});
