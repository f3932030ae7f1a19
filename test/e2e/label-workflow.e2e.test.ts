import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { canvasSignature, launchChromium, screenshot, startBrowserMode, type RunningApp } from '../helpers/browser-mode';
import { DICOM_DIR, FUNDUS_DIR } from '../helpers/paths';

/** A handful of real files, by path, to keep the run short: CT, MR (J2K 1024²), a multi-frame MR, and DRIVE fundus photos. */
const FILES = [
  path.join(DICOM_DIR, 'pydicom_debian', 'CT_small.dcm'),
  path.join(DICOM_DIR, 'octave_dicom_debian', 'CT-MONO2-16-ankle.dcm'),
  path.join(DICOM_DIR, 'pydicom_debian', 'MR_small.dcm'),
  path.join(DICOM_DIR, 'pydicom_data', 'emri_small.dcm'),
  path.join(DICOM_DIR, 'pydicom_data', 'MR2_J2KI.dcm'),
  ...['21', '22', '23', '24', '25', '26'].map((n) => path.join(FUNDUS_DIR, 'DRIVE', 'training', 'images', `${n}_training.tif`)),
];
const CANVAS = '[data-testid="viewer-canvas"]';

let app: RunningApp;
let browser: Browser;
let page: Page;
let tmp: string;
const consoleErrors: string[] = [];

const selectedCaseId = () => page.locator('[data-testid="case-row"][aria-selected="true"]').getAttribute('data-case-id');
/** Waits until the viewer has painted the selected case. */
async function waitForPaint(): Promise<string> {
  const id = await selectedCaseId();
  await page.waitForFunction(
    ([sel, want]) =>
      (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } }).document
        .querySelector(sel)
        ?.getAttribute('data-case-id') === want,
    [CANVAS, id] as const,
  );
  return id!;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-e2e-label-'));
  fs.writeFileSync(path.join(tmp, 'not-an-image.dcm'), 'this is text, not DICOM');
  app = await startBrowserMode();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(err.message));
  await page.goto(app.url);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('import, view and label with the keyboard', () => {
  it('creates a workspace and imports DICOM and fundus files by path, with a quarantine report', async () => {
    await page.getByTestId('create-dir').fill(path.join(tmp, 'ws'));
    await page.getByTestId('create-submit').click();
    await page.getByTestId('worklist-empty').waitFor();
    await page.getByTestId('tab-settings').click();
    await page.getByTestId('import-paths').fill([...FILES, path.join(tmp, 'not-an-image.dcm')].join('\n'));
    await page.getByTestId('import-start').click();
    await page.getByTestId('import-report').waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('import-imported').textContent()).toContain(`${FILES.length} imported`);
    expect(await page.getByTestId('quarantine-report').textContent()).toContain('not-an-image.dcm');
  });

  it('defines a label task with classes and hotkeys', async () => {
    await page.getByTestId('task-name').fill('Image quality');
    await page.getByTestId('class-name-0').fill('good');
    await page.getByTestId('class-name-1').fill('poor');
    await page.getByTestId('task-submit').click();
    await page.getByTestId('task-summary').waitFor();
    expect(await page.getByTestId('task-summary').textContent()).toMatch(/Image quality.*1\s*good.*2\s*poor/s);
    await screenshot(page, '10-settings-import-task');
  });

  it('opens the first case at once, with overlays, and fills the worklist with thumbnails', async () => {
    await page.getByTestId('tab-reading').click();
    await waitForPaint();
    expect(await page.getByTestId('case-count').textContent()).toContain(`${FILES.length} cases`);
    expect(await page.getByTestId('overlay-patient').textContent()).toBeTruthy();
    expect(await page.getByTestId('overlay-wl').textContent()).toMatch(/^W -?\d+ L -?\d+$/);
    await expect.poll(() => page.locator('.thumb canvas[width]').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(5);
    const signature = await canvasSignature(page, CANVAS);
    expect(signature.sum).toBeGreaterThan(0);
    await screenshot(page, '11-reading-first-case');
  });

  it('changes window/level with a left-button drag: the overlay and the pixels change', async () => {
    const before = await page.getByTestId('overlay-wl').textContent();
    const pixelsBefore = await canvasSignature(page, CANVAS);
    const box = (await page.locator(CANVAS).boundingBox())!;
    const x = box.x + box.width / 2;
    const y = box.y + box.height / 2;
    await page.mouse.move(x, y);
    await page.mouse.down();
    await page.mouse.move(x - 60, y + 40, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => page.getByTestId('overlay-wl').textContent()).not.toBe(before);
    await expect.poll(async () => (await canvasSignature(page, CANVAS)).hash).not.toBe(pixelsBefore.hash);
    // Space resets to the image's own window.
    await page.keyboard.press(' ');
    await expect.poll(() => page.getByTestId('overlay-wl').textContent()).toBe(before);
  });

  it('labels ten cases with the keyboard only', async () => {
    const labelled: string[] = [];
    for (let i = 0; i < 10; i++) {
      const id = await waitForPaint();
      const key = i % 3 === 0 ? '2' : '1';
      await page.keyboard.press(key);
      await expect.poll(() => page.getByTestId('current-label').textContent()).toBe(key === '1' ? 'good' : 'poor');
      labelled.push(id);
      if (i < 9) {
        await page.keyboard.press('Enter');
        await expect.poll(selectedCaseId).not.toBe(id);
      }
    }
    expect(new Set(labelled).size).toBe(10);
    await screenshot(page, '12-labelled-ten');
  });

  it('undoes with Ctrl+Z and shows who changed the label, when and how', async () => {
    // The tenth case was labelled 'poor' (key 2); change it to 'good', then undo back to 'poor'.
    await page.keyboard.press('1');
    await expect.poll(() => page.getByTestId('current-label').textContent()).toBe('good');
    await page.keyboard.press('Control+z');
    await expect.poll(() => page.getByTestId('current-label').textContent()).toBe('poor');
    const entries = page.getByTestId('history-entry');
    await expect.poll(() => entries.count()).toBe(3);
    expect(await entries.first().textContent()).toMatch(/poor.*undo/);
    expect(await entries.last().textContent()).toMatch(/poor.*by hand/);
    await page.keyboard.press('f');
    await page.getByTestId('flagged').waitFor();
    await screenshot(page, '13-label-history');
  });

  it('counts the labelled cases in the Labeled filter', async () => {
    await page.getByTestId('filter-labeled').click();
    await expect.poll(() => page.getByTestId('case-count').textContent()).toContain('10 cases');
    await page.getByTestId('filter-unlabeled').click();
    await expect.poll(() => page.getByTestId('case-count').textContent()).toContain(`${FILES.length - 10} case`);
    await page.getByTestId('filter-all').click();
    await expect.poll(() => page.getByTestId('case-count').textContent()).toContain(`${FILES.length} cases`);
  });

  it('keeps the review flag in the workspace: it is still there after closing, reopening and reloading', async () => {
    await page.getByTestId('filter-flagged').click();
    await expect.poll(() => page.getByTestId('case-count').textContent()).toContain('1 case');
    const flaggedId = await page.locator('[data-testid="case-row"]').first().getAttribute('data-case-id');
    await page.getByTestId('close-workspace').click();
    await page.getByTestId('open-dir').fill(path.join(tmp, 'ws'));
    await page.getByTestId('open-submit').click();
    await page.reload();
    await page.getByTestId('filter-flagged').click();
    await expect.poll(() => page.getByTestId('case-count').textContent()).toContain('1 case');
    const row = page.locator('[data-testid="case-row"]').first();
    expect(await row.getAttribute('data-case-id')).toBe(flaggedId);
    expect(await row.locator('.wl-flag').count()).toBe(1);
    await row.click();
    await page.getByTestId('flagged').waitFor();
    expect(await page.getByTestId('review-mark').textContent()).toContain('Flagged for review');
    await page.getByTestId('filter-all').click();
    await expect.poll(() => page.getByTestId('case-count').textContent()).toContain(`${FILES.length} cases`);
  });

  it('shows a drop overlay and explains that a browser cannot import dropped files by path', async () => {
    const dispatchDrag = (type: string) =>
      page.evaluate(`(() => {
        const dt = new DataTransfer();
        dt.items.add(new File(['not really DICOM'], 'scan.dcm'));
        document.body.dispatchEvent(new DragEvent('${type}', { dataTransfer: dt, bubbles: true, cancelable: true }));
      })()`);
    await dispatchDrag('dragenter');
    await page.getByTestId('drop-overlay').waitFor();
    await dispatchDrag('drop');
    await expect.poll(() => page.getByTestId('drop-overlay').count()).toBe(0);
    expect(await page.getByTestId('app-message').textContent()).toContain('does not reveal where dropped files are stored');
    await page.getByTestId('app-message-dismiss').click();
    await expect.poll(() => page.getByTestId('app-message').count()).toBe(0);
  });

  it('steps through the frames of a multi-frame series and searches the worklist', async () => {
    await page.keyboard.press('/');
    await page.keyboard.type('emri');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('case-count').textContent()).toContain('1 case');
    await page.keyboard.press('Escape');
    await page.locator('[data-testid="case-row"]').first().click();
    await waitForPaint();
    await expect.poll(() => page.getByTestId('overlay-frame').textContent()).toContain('Frame 1 / 10');
    const first = await canvasSignature(page, CANVAS);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.getByTestId('overlay-frame').textContent()).toContain('Frame 3 / 10');
    await expect.poll(async () => (await canvasSignature(page, CANVAS)).hash).not.toBe(first.hash);
    await page.keyboard.press('r');
    await page.keyboard.press('i');
    expect(await page.locator('.corner.br').textContent()).toMatch(/inverted.*90°/);
    await page.keyboard.press('d');
    expect(await page.getByTestId('overlay-patient').textContent()).toContain('Patient hidden');
    await screenshot(page, '14-multiframe-rotated-inverted-deidentified');
    await page.keyboard.press('d');
  });

  it('shows a fundus photo in red-free and lists every shortcut in the help overlay', async () => {
    await page.getByTestId('search').fill('21_training');
    await page.getByTestId('search').press('Enter');
    await expect.poll(() => page.getByTestId('case-count').textContent()).toContain('1 case');
    await page.getByTestId('search').press('Escape');
    await page.locator('[data-testid="case-row"]').first().click();
    await waitForPaint();
    const colour = await canvasSignature(page, CANVAS);
    await page.keyboard.press('g');
    await expect.poll(async () => (await canvasSignature(page, CANVAS)).hash).not.toBe(colour.hash);
    await screenshot(page, '15-fundus-red-free');
    await page.keyboard.press('?');
    await page.getByTestId('help').waitFor();
    const help = await page.getByTestId('help').textContent();
    for (const text of ['Submit and go to the next case', 'Shift+1', 'Lung 1500/-600', 'Label: good', 'Red-free']) expect(help).toContain(text);
    await screenshot(page, '16-help');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('help').count()).toBe(0);
  });

  it('logged no errors in the page', () => {
    expect(consoleErrors).toEqual([]);
  });
});
