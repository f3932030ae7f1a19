import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { decodeImageFile as decodeFile } from '../../core/imaging/decode-file';
import { frameRange, wlDragSensitivity } from '../../core/imaging/display';
import { roiStats, chooseSpacing } from '../../core/imaging/measure';
import { canvasSignature, createWorkspaceAndImport, openApp, screenshot, type OpenApp } from '../helpers/browser-mode';
import { DICOM_DIR, FUNDUS_DIR } from '../helpers/paths';

/**
 * Reading like a radiologist (issue 17): wheel/arrow stepping, range-scaled W/L drag, both keyboard habits (OHIF
 * presets on 1–5, Label Studio classes on number keys) with a visible mode and a per-reader keymap, measurements
 * in mm and HU, the tag browser, the loupe, cine speed and a readable overlay. Real server, real Chromium.
 */
const CT = path.join(DICOM_DIR, 'pydicom_debian', 'CT_small.dcm');
const MULTIFRAME = path.join(DICOM_DIR, 'pydicom_data', 'emri_small.dcm');
const PHOTO = path.join(FUNDUS_DIR, 'DRIVE', 'training', 'images', '21_training.tif');
const CANVAS = '[data-testid="viewer-canvas"]';

let opened: OpenApp;
let page: Page;
let tmp: string;

interface Doc {
  document: { querySelector(s: string): { getAttribute(n: string): string | null } | null };
}

async function waitForPaint(): Promise<string> {
  const id = await page.locator('[data-testid="case-row"][aria-selected="true"]').getAttribute('data-case-id');
  await page.waitForFunction(
    ([sel, want]) => (globalThis as unknown as Doc).document.querySelector(sel)?.getAttribute('data-case-id') === want,
    [CANVAS, id] as const,
  );
  return id!;
}

/** Shows the one case whose name matches `search`. */
async function openCase(search: string): Promise<string> {
  await page.getByTestId('search').fill(search);
  await page.getByTestId('search').press('Enter');
  await expect.poll(() => page.getByTestId('case-count').textContent()).toContain('1 case');
  await page.getByTestId('search').press('Escape');
  await page.locator('[data-testid="case-row"]').first().click();
  return waitForPaint();
}

const wl = async () => {
  const m = (await page.getByTestId('overlay-wl').textContent())!.match(/^W (-?\d+) L (-?\d+)$/);
  return { width: Number(m![1]), center: Number(m![2]) };
};
const canvasBox = async () => (await page.locator(CANVAS).boundingBox())!;

/** Drags with the left button from (x, y) by (dx, dy) in CSS pixels. */
async function drag(x: number, y: number, dx: number, dy: number): Promise<void> {
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + dx, y + dy, { steps: 8 });
  await page.mouse.up();
}

/** The measurements stored for a case, read through the app's own API from the page. */
async function storedMeasurements(caseId: string): Promise<{ kind: string; points: [number, number][] }[]> {
  return page.evaluate(async (id) => {
    const api = (globalThis as unknown as { medtune: { invoke(c: string, r: unknown): Promise<{ ok: boolean; value: unknown }> } }).medtune;
    const result = await api.invoke('measurements.list', { caseId: Number(id) });
    return result.value as { kind: string; points: [number, number][] }[];
  }, caseId);
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-e2e-reading-'));
  opened = await openApp();
  page = opened.page;
  await createWorkspaceAndImport(page, path.join(tmp, 'ws'), [CT, MULTIFRAME, PHOTO]);
  await page.getByTestId('tab-reading').click();
  await waitForPaint();
});

afterAll(async () => {
  await opened?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('1. stepping and window/level like OHIF and Weasis', () => {
  it('the wheel and the arrow keys step frames; Ctrl+wheel zooms', async () => {
    await openCase('emri');
    await expect.poll(() => page.getByTestId('overlay-frame').textContent()).toContain('Frame 1 / 10');
    const box = await canvasBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, 100);
    await expect.poll(() => page.getByTestId('overlay-frame').textContent()).toContain('Frame 2 / 10');
    await page.mouse.wheel(0, 100);
    await page.mouse.wheel(0, 100);
    await expect.poll(() => page.getByTestId('overlay-frame').textContent()).toContain('Frame 4 / 10');
    await page.mouse.wheel(0, -100);
    await expect.poll(() => page.getByTestId('overlay-frame').textContent()).toContain('Frame 3 / 10');
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.getByTestId('overlay-frame').textContent()).toContain('Frame 4 / 10');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp');
    await expect.poll(() => page.getByTestId('overlay-frame').textContent()).toContain('Frame 2 / 10');
    expect(await page.locator('.corner.br').textContent()).toContain('Zoom 100%');
    await page.keyboard.down('Control');
    await page.mouse.wheel(0, -100);
    await page.keyboard.up('Control');
    await expect.poll(() => page.locator('.corner.br').textContent()).toContain('Zoom 110%');
    // Zooming did not step.
    expect(await page.getByTestId('overlay-frame').textContent()).toContain('Frame 2 / 10');
    await screenshot(page, '20-wheel-frames-ctrl-zoom');
    await page.keyboard.press(' ');
  });

  it('a 200 px drag moves the window by 200 × (value range + 1) / 1024, as in OHIF', async () => {
    await openCase('CT_small');
    const image = await decodeFile(CT);
    const sensitivity = wlDragSensitivity(frameRange(image, 0));
    const before = await wl();
    const box = await canvasBox();
    await drag(box.x + box.width / 2, box.y + box.height / 2, 200, 0);
    const after = await wl();
    expect(after.width - before.width).toBe(Math.round(before.width + 200 * sensitivity) - before.width);
    expect(after.center).toBe(before.center);
    // Far from the 4095 → 896 jump: a fifth of the range or less.
    expect(Math.abs(after.width - before.width)).toBeLessThanOrEqual((frameRange(image, 0).max - frameRange(image, 0).min + 1) / 5 + 1);
    await page.keyboard.press(' ');
  });
});

describe('2. both keyboard habits, a visible mode, and a per-reader keymap', () => {
  it('without a task, 1–5 are W/L presets and the overlay names the preset', async () => {
    expect(await page.getByTestId('input-mode').getAttribute('data-mode')).toBe('view');
    await page.keyboard.press('2');
    await expect.poll(() => page.getByTestId('overlay-wl-name').textContent()).toBe('Lung');
    expect(await wl()).toEqual({ width: 1500, center: -600 });
    await page.keyboard.press(' ');
    await expect.poll(() => page.getByTestId('overlay-wl-name').textContent()).not.toBe('Lung');
  });

  it('with a task, label mode (Label Studio habit): 1 labels, Shift+1 is the preset', async () => {
    await page.getByTestId('tab-settings').click();
    await page.getByTestId('task-name').fill('Quality');
    await page.getByTestId('class-name-0').fill('good');
    await page.getByTestId('class-name-1').fill('poor');
    await page.getByTestId('task-submit').click();
    await page.getByTestId('task-summary').waitFor();
    await page.getByTestId('tab-reading').click();
    await openCase('CT_small');
    await expect.poll(() => page.getByTestId('input-mode').getAttribute('data-mode')).toBe('label');
    expect(await page.getByTestId('input-mode').textContent()).toContain('LABEL mode');
    await page.keyboard.press('1');
    await expect.poll(() => page.getByTestId('current-label').textContent()).toBe('good');
    await page.keyboard.press('Shift+Digit1');
    await expect.poll(() => page.getByTestId('overlay-wl-name').textContent()).toBe('Soft tissue');
    await screenshot(page, '21-label-mode');
  });

  it('m switches to view mode (OHIF habit): 1 is the preset and labels nothing; the choice is kept for the reader', async () => {
    await page.keyboard.press('m');
    await expect.poll(() => page.getByTestId('input-mode').getAttribute('data-mode')).toBe('view');
    expect(await page.getByTestId('input-mode').textContent()).toContain('VIEW mode');
    await page.keyboard.press('4');
    await expect.poll(() => page.getByTestId('overlay-wl-name').textContent()).toBe('Bone');
    await page.keyboard.press('2');
    await expect.poll(() => page.getByTestId('overlay-wl-name').textContent()).toBe('Lung');
    expect(await page.getByTestId('current-label').textContent()).toBe('good');
    await screenshot(page, '22-view-mode');
    await page.reload();
    await waitForPaint();
    await expect.poll(() => page.getByTestId('input-mode').getAttribute('data-mode')).toBe('view');
  });

  it('? shows the keymap in effect; a key can be rebound, refused on a clash, and survives a reload', async () => {
    await page.keyboard.press('?');
    await page.getByTestId('help').waitFor();
    expect(await page.getByTestId('help-mode').textContent()).toContain('View mode');
    const help = await page.getByTestId('help').textContent();
    expect(help).toContain('Lung 1500/-600');
    expect(help).not.toContain('Label: good');
    await page.getByTestId('key-invert').click();
    await page.keyboard.press('r');
    await expect.poll(() => page.getByTestId('keymap-message').textContent()).toContain('already used by "Rotate 90° clockwise"');
    await page.keyboard.press('k');
    await expect.poll(() => page.getByTestId('keymap-message').textContent()).toContain('Saved for');
    expect(await page.getByTestId('key-invert').textContent()).toBe('k');
    await screenshot(page, '23-help-keymap-edited');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('help').count()).toBe(0);
    await page.keyboard.press('k');
    await expect.poll(() => page.locator('.corner.br').textContent()).toContain('inverted');
    await page.keyboard.press('i'); // no longer bound: nothing happens
    expect(await page.locator('.corner.br').textContent()).toContain('inverted');
    await page.reload();
    await waitForPaint();
    await page.keyboard.press('k');
    await expect.poll(() => page.locator('.corner.br').textContent()).toContain('inverted');
    await page.keyboard.press('k');
    // Back to label mode for the rest.
    await page.keyboard.press('m');
    await expect.poll(() => page.getByTestId('input-mode').getAttribute('data-mode')).toBe('label');
  });
});

describe('3. measurements', () => {
  it('length in mm from Pixel Spacing, angle, ellipse and rectangle ROIs in HU, listed and stored per case', async () => {
    const caseId = await openCase('CT_small');
    const image = await decodeFile(CT);
    const spacing = chooseSpacing(image.metadata.pixelSpacing)!;
    const box = await canvasBox();
    const fit = Math.min(box.width / image.columns, box.height / image.rows); // CSS px per image pixel (dpr 1)
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;

    await page.keyboard.press('u');
    expect(await page.locator(CANVAS).getAttribute('data-tool')).toBe('length');
    await drag(cx - 150, cy - 100, 300, 0);
    const rows = page.getByTestId('measurement');
    await expect.poll(() => rows.count()).toBe(1);
    const mm = (300 / fit) * spacing.columnMm;
    const lengthText = (await page.getByTestId('measurement-value').first().textContent())!;
    expect(lengthText).toMatch(/^\d+\.\d\d mm$/);
    expect(Math.abs(parseFloat(lengthText) - mm)).toBeLessThan(0.02 * mm);
    expect(await page.getByTestId('measurement-basis').first().textContent()).toBe('Pixel Spacing');

    await page.keyboard.press('q');
    await drag(cx - 100, cy + 60, 100, 0); // first arm ends at the vertex
    await page.mouse.move(cx, cy - 40, { steps: 4 });
    await page.mouse.down();
    await page.mouse.up();
    await expect.poll(() => rows.count()).toBe(2);
    expect(await page.getByTestId('measurement-value').nth(1).textContent()).toBe('90.0°');

    await page.keyboard.press('e');
    await drag(cx - 60, cy - 40, 120, 80);
    await expect.poll(() => rows.count()).toBe(3);
    await page.keyboard.press('b');
    await drag(cx + 20, cy + 20, 80, 50);
    await expect.poll(() => rows.count()).toBe(4);

    // The ROI values equal the statistics computed here from the stored points and the decoded file.
    const stored = await storedMeasurements(caseId);
    expect(stored.map((m) => m.kind)).toEqual(['length', 'angle', 'ellipse', 'rectangle']);
    for (const [i, m] of stored.entries()) {
      if (m.kind !== 'ellipse' && m.kind !== 'rectangle') continue;
      const [a, b] = m.points.map(([x, y]) => ({ x, y }));
      const s = roiStats(image, 0, m.kind, a, b, spacing);
      const text = (await page.getByTestId('measurement-value').nth(i).textContent())!;
      expect(text).toContain(`mean ${s.mean.toFixed(1)} HU`);
      expect(text).toContain(`sd ${s.stdDev.toFixed(1)}`);
      expect(text).toContain(`min ${s.min.toFixed(0)}`);
      expect(text).toContain(`max ${s.max.toFixed(0)}`);
      expect(text).toContain(`area ${s.area.toFixed(1)} mm²`);
    }
    await page.keyboard.press('w');
    await page.mouse.move(box.x + 20, box.y + box.height - 20);
    await screenshot(page, '30-measurements-ct');

    await page.getByTestId('measurement-delete').nth(1).click();
    await expect.poll(() => rows.count()).toBe(3);
    await page.reload();
    await waitForPaint();
    await expect.poll(() => page.getByTestId('measurement').count()).toBe(3);
    expect((await storedMeasurements(caseId)).map((m) => m.kind)).toEqual(['length', 'ellipse', 'rectangle']);
  });

  it('says the value is in pixels when the image has no pixel spacing (a photo)', async () => {
    await openCase('21_training');
    await page.keyboard.press('u');
    const box = await canvasBox();
    await drag(box.x + box.width / 2 - 100, box.y + box.height / 2, 200, 0);
    await expect.poll(() => page.getByTestId('measurement').count()).toBe(1);
    expect(await page.getByTestId('measurement-value').first().textContent()).toMatch(/^\d+\.\d\d px$/);
    expect(await page.getByTestId('measurement-basis').first().textContent()).toBe('no pixel spacing: pixels');
    await page.keyboard.press('Delete');
    await expect.poll(() => page.getByTestId('measurement').count()).toBe(0);
    await page.keyboard.press('w');
  });
});

describe('4. inspect: tags, loupe, cine speed, readable overlay', () => {
  it('the tag browser lists every element, nests sequences and searches', async () => {
    await openCase('CT_small');
    await page.keyboard.press('t');
    await page.getByTestId('tag-browser').waitFor();
    await expect.poll(() => page.locator('[data-testid="tag-row"][data-tag="(0028,0030)"]').count()).toBe(1);
    expect(await page.getByTestId('tag-browser').textContent()).toContain('270 of 270 elements');
    await screenshot(page, '40-tag-browser');
    await page.getByTestId('tag-search').fill('ABCD1234');
    await expect.poll(() => page.getByTestId('tag-row').count()).toBe(2); // the sequence and the matching item element
    const seq = page.getByTestId('tag-sequence');
    expect(await seq.getAttribute('open')).not.toBeNull();
    expect(await seq.textContent()).toContain('Other Patient IDs Sequence');
    expect(await seq.textContent()).toContain('Item 1');
    await screenshot(page, '41-tag-browser-sequence-search');
    await page.getByTestId('tag-search').fill('0028,0030');
    await expect.poll(() => page.getByTestId('tag-row').count()).toBe(1);
    expect(await page.getByTestId('tag-row').textContent()).toContain('0.661468\\0.661468');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('tag-browser').count()).toBe(0);
  });

  it('the loupe follows the pointer and shows the image enlarged', async () => {
    await page.keyboard.press('o');
    const box = await canvasBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 3 });
    await page.getByTestId('magnifier').waitFor();
    const loupe = await canvasSignature(page, '[data-testid="magnifier"]');
    expect(loupe.width).toBeGreaterThan(0);
    expect(loupe.sum).toBeGreaterThan(0);
    await screenshot(page, '42-magnifier');
    await page.keyboard.press('o');
    await expect.poll(() => page.getByTestId('magnifier').count()).toBe(0);
  });

  it('cine runs at the chosen speed and the overlay says so', async () => {
    await openCase('emri');
    await page.getByTestId('cine-fps').fill('30');
    await expect.poll(() => page.getByTestId('cine-fps-value').textContent()).toBe('30 fps');
    await page.keyboard.press(']');
    await expect.poll(() => page.getByTestId('cine-fps-value').textContent()).toBe('35 fps');
    await page.keyboard.press('c');
    await expect.poll(() => page.getByTestId('overlay-frame').textContent()).toContain('▶ 35 fps');
    const seen = new Set<string>();
    await expect
      .poll(async () => {
        seen.add((await page.locator(CANVAS).getAttribute('data-frame'))!);
        return seen.size;
      })
      .toBeGreaterThan(3);
    await screenshot(page, '43-cine-speed');
    await page.keyboard.press('c');
  });

  it('overlay text is outlined and names the preset in effect, readable on a bright image', async () => {
    await openCase('CT_small');
    await page.keyboard.press('Shift+Digit4');
    await expect.poll(() => page.getByTestId('overlay-wl-name').textContent()).toBe('Bone');
    await page.keyboard.press('k'); // invert (rebound from i above): a mostly white image behind the text
    const shadow = await page.locator('.corner.br').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { textShadow: string } }).getComputedStyle(el).textShadow);
    expect(shadow.split('rgb(0, 0, 0)').length - 1).toBeGreaterThanOrEqual(4);
    await screenshot(page, '44-overlay-on-bright-image');
    await page.keyboard.press('k');
  });

  it('logged no errors in the page', () => {
    expect(opened.consoleErrors).toEqual([]);
  });
});
