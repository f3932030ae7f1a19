import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { readBinaryMask, type LabelMap } from '../../core/segmentation/png-mask';
import { canvasSignature, createWorkspaceAndImport, openApp, screenshot, type OpenApp } from '../helpers/browser-mode';
import { FUNDUS_DIR } from '../helpers/paths';

/**
 * Painting a vessel mask (issue 16) in real Chromium on the real server: a segmentation task, two brush strokes
 * along DRIVE vessels on a zoomed view, undo of one stroke, and the mask still there after a reload.
 */
const DRIVE = path.join(FUNDUS_DIR, 'DRIVE', 'training');
const PHOTO = path.join(DRIVE, 'images', '21_training.tif');
const VESSELS = path.join(DRIVE, '1st_manual', '21_manual1.gif');
const LAYER = '[data-testid="mask-layer"]';
const CANVAS = '[data-testid="viewer-canvas"]';

let opened: OpenApp;
let page: Page;
let tmp: string;
let vessels: LabelMap;
let caseId: number;
let taskId: number;

interface Doc {
  document: { querySelector(s: string): { getAttribute(n: string): string | null } | null };
}

type Pt = [number, number];

/** The nearest vessel pixel of the manual mask to `p` (within `reach` px): the strokes follow real vessels. */
function onVessel([x0, y0]: Pt, reach = 20): Pt {
  let best: Pt = [x0, y0];
  let bestD = Infinity;
  for (let y = y0 - reach; y <= y0 + reach; y++) for (let x = x0 - reach; x <= x0 + reach; x++) {
    if (x < 0 || y < 0 || x >= vessels.width || y >= vessels.height || !vessels.labels[y * vessels.width + x]) continue;
    const d = (x - x0) ** 2 + (y - y0) ** 2;
    if (d < bestD) [best, bestD] = [[x, y], d];
  }
  return best;
}

/** Waypoints every few pixels between the given ones, each snapped onto the nearest vessel nearby: a stroke that follows the vessel. */
function densify(points: Pt[]): Pt[] {
  const out: Pt[] = [points[0]];
  for (let k = 1; k < points.length; k++) {
    const [a, b] = [points[k - 1], points[k]];
    const n = Math.max(1, Math.round(Math.hypot(b[0] - a[0], b[1] - a[1]) / 8));
    for (let s = 1; s <= n; s++) out.push(onVessel([Math.round(a[0] + ((b[0] - a[0]) * s) / n), Math.round(a[1] + ((b[1] - a[1]) * s) / n)], 6));
  }
  return out;
}

/** The share of painted pixels that lie on the manual vessels when the mask is moved by (dx, dy). */
function overlap(labels: number[], dx: number, dy: number): number {
  let painted = 0;
  let hit = 0;
  labels.forEach((v, i) => {
    if (!v) return;
    painted++;
    const x = (i % vessels.width) + dx;
    const y = Math.floor(i / vessels.width) + dy;
    if (x >= 0 && y >= 0 && x < vessels.width && y < vessels.height && vessels.labels[y * vessels.width + x]) hit++;
  });
  return hit / painted;
}

/** Image pixel centre → page CSS pixel, for the view as it is (fit × zoom, centred, pan 0, no rotation). */
async function toPage([x, y]: Pt, zoom: number): Promise<Pt> {
  const box = (await page.locator(CANVAS).boundingBox())!;
  const scale = Math.min(box.width / vessels.width, box.height / vessels.height) * zoom;
  return [box.x + box.width / 2 + (x + 0.5 - vessels.width / 2) * scale, box.y + box.height / 2 + (y + 0.5 - vessels.height / 2) * scale];
}

async function strokeAlong(points: Pt[], zoom: number): Promise<void> {
  const first = await toPage(points[0], zoom);
  await page.mouse.move(...first);
  await page.mouse.down();
  for (const p of points.slice(1)) await page.mouse.move(...(await toPage(p, zoom)), { steps: 2 });
  await page.mouse.up();
}

const layerAttr = (name: string) =>
  page.evaluate(([sel, n]) => (globalThis as unknown as Doc).document.querySelector(sel)?.getAttribute(n) ?? null, [LAYER, name] as const);

/** The case's stored mask, read through the app's own API from the page. */
async function storedMask(): Promise<{ labels: number[]; source: string; author: string } | null> {
  return page.evaluate(async ([c, t]) => {
    const api = (globalThis as unknown as { medtune: { invoke(ch: string, r: unknown): Promise<{ ok: boolean; value: { mask: { labels: Uint8Array; source: string; author: string } | null } }> } }).medtune;
    const result = await api.invoke('masks.get', { taskId: t, caseId: c, frame: 0 });
    const m = result.value.mask;
    return m ? { labels: Array.from(m.labels), source: m.source, author: m.author } : null;
  }, [caseId, taskId] as const);
}

async function storedHistory(): Promise<{ id: number; foreground: number }[]> {
  return page.evaluate(async ([c, t]) => {
    const api = (globalThis as unknown as { medtune: { invoke(ch: string, r: unknown): Promise<{ value: { id: number; foreground: number }[] }> } }).medtune;
    return (await api.invoke('masks.history', { taskId: t, caseId: c })).value;
  }, [caseId, taskId] as const);
}

/** Waits until every stroke is stored (the debounced save has run and answered). */
async function waitSaved(): Promise<void> {
  await expect.poll(() => layerAttr('data-save-state'), { timeout: 15_000 }).toBe('saved');
}

/** Waypoints along the lower and upper vessel arcades, snapped onto the manual mask once it is read. */
let LOWER_ARCADE: Pt[] = [[70, 290], [95, 350], [130, 395], [175, 420], [220, 440], [255, 455]];
let UPPER_ARCADE: Pt[] = [[105, 185], [145, 150], [195, 128], [250, 108], [320, 82]];

beforeAll(async () => {
  vessels = await readBinaryMask(VESSELS);
  LOWER_ARCADE = densify(LOWER_ARCADE.map((p) => onVessel(p)));
  UPPER_ARCADE = densify(UPPER_ARCADE.map((p) => onVessel(p)));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-e2e-paint-'));
  opened = await openApp();
  page = opened.page;
  await createWorkspaceAndImport(page, path.join(tmp, 'ws'), [PHOTO]);
});

afterAll(async () => {
  await opened?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('painting a vessel mask', () => {
  it('offers segmentation in the task editor and creates a task with a coloured class', async () => {
    await page.getByTestId('task-name').fill('Vessels');
    await page.getByTestId('task-kind').selectOption('segmentation');
    await page.getByTestId('class-name-0').fill('vessel');
    await page.getByTestId('task-submit').click();
    await page.getByTestId('task-summary').waitFor();
    expect(await page.getByTestId('task-summary').textContent()).toMatch(/Vessels\s*segmentation.*vessel/s);
    taskId = await page.evaluate(async () => {
      const api = (globalThis as unknown as { medtune: { invoke(ch: string, r: unknown): Promise<{ value: { id: number }[] }> } }).medtune;
      return (await api.invoke('tasks.list', {})).value[0].id;
    });
    await page.getByTestId('tab-reading').click();
    await page.getByTestId('paint-toolbar').waitFor();
    const row = page.locator('[data-testid="case-row"]').first();
    caseId = Number(await row.getAttribute('data-case-id'));
    await page.waitForFunction(
      ([sel, want]) => (globalThis as unknown as Doc).document.querySelector(sel)?.getAttribute('data-case-id') === want,
      [CANVAS, String(caseId)] as const,
    );
    await expect.poll(() => layerAttr('data-loading')).toBe('false');
    expect(await layerAttr('data-foreground')).toBe('0');
  });

  it('paints two strokes along vessels on a zoomed view, in image pixels', async () => {
    // Zoom in (z = ×1.25, twice) so the strokes are drawn on an enlarged image.
    await page.keyboard.press('z');
    await page.keyboard.press('z');
    const zoom = 1.25 * 1.25;
    await page.getByTestId('paint-brush').click();
    // Brush 5 px: `]` grows it from 8 to 10, `[` twice shrinks it to 8 then 6, then the field sets 5.
    await page.keyboard.press(']');
    expect(await layerAttr('data-brush-size')).toBe('10');
    await page.keyboard.press('[');
    await page.keyboard.press('[');
    expect(await layerAttr('data-brush-size')).toBe('6');
    await page.getByTestId('paint-size').fill('5');
    await page.getByTestId('paint-size').press('Tab');
    expect(await layerAttr('data-brush-size')).toBe('5');

    await strokeAlong(LOWER_ARCADE, zoom);
    await waitSaved();
    const afterFirst = Number(await layerAttr('data-foreground'));
    expect(afterFirst).toBeGreaterThan(500);
    await strokeAlong(UPPER_ARCADE, zoom);
    await waitSaved();
    const afterSecond = Number(await layerAttr('data-foreground'));
    expect(afterSecond).toBeGreaterThan(afterFirst + 300);
    expect(await layerAttr('data-undo')).toBe('2');
    // A painted case counts as labelled: the label bar and the worklist row say so.
    await expect.poll(() => page.getByTestId('current-label').textContent()).toMatch(/^mask [0-9a-f]{12}$/);
    await screenshot(page, 'segmentation-10-two-strokes');

    const stored = (await storedMask())!;
    expect(stored.source).toBe('human');
    // Every waypoint (image coordinates) is painted, and the strokes lie mostly on the manual vessels.
    for (const [x, y] of [...LOWER_ARCADE, ...UPPER_ARCADE]) expect(stored.labels[y * vessels.width + x], `(${x}, ${y})`).toBe(1);
    let painted = 0;
    let onVessels = 0;
    stored.labels.forEach((v, i) => {
      if (!v) return;
      painted++;
      if (vessels.labels[i]) onVessels++;
    });
    expect(painted).toBe(afterSecond);
    // Registration: the painted pixels overlap the manual vessels best where they were painted, not shifted.
    const shifted = [[4, 0], [-4, 0], [0, 4], [0, -4]].map(([dx, dy]) => overlap(stored.labels, dx, dy));
    expect(Math.max(...shifted)).toBeLessThan(onVessels / painted);
    expect(onVessels / painted).toBeGreaterThan(0.6);
  });

  it('undoes one stroke with Ctrl+Z, stores that, and redoes it with Ctrl+Y', async () => {
    const before = Number(await layerAttr('data-foreground'));
    await page.keyboard.press('Control+z');
    await expect.poll(() => layerAttr('data-undo')).toBe('1');
    const undone = Number(await layerAttr('data-foreground'));
    expect(undone).toBeLessThan(before);
    await page.keyboard.press('Control+y');
    await expect.poll(() => layerAttr('data-foreground')).toBe(String(before));
    await page.keyboard.press('Control+z');
    await expect.poll(() => layerAttr('data-foreground')).toBe(String(undone));
    await waitSaved();
    const stored = (await storedMask())!;
    const [ux, uy] = UPPER_ARCADE[2];
    const [lx, ly] = LOWER_ARCADE[2];
    expect(stored.labels[uy * vessels.width + ux]).toBe(0);
    expect(stored.labels[ly * vessels.width + lx]).toBe(1);
    // Each save is one append-only event; the last holds the undone state.
    const history = await storedHistory();
    expect(history.length).toBeGreaterThanOrEqual(3);
    expect(history[history.length - 1].foreground).toBe(undone);
    await screenshot(page, 'segmentation-20-undone');
  });

  it('shows the mask again after a reload, as an outline when asked', async () => {
    const kept = await layerAttr('data-foreground');
    await page.reload();
    await page.getByTestId('paint-toolbar').waitFor();
    await expect.poll(() => layerAttr('data-foreground'), { timeout: 30_000 }).toBe(kept);
    await screenshot(page, 'segmentation-30-reloaded');
    await page.getByTestId('paint-outline').check();
    await page.getByTestId('paint-opacity').fill('1');
    await screenshot(page, 'segmentation-40-outline');
    expect(opened.consoleErrors).toEqual([]);
  });

  it('fills a lasso, a clicked polygon and a flood fill within the tolerance, erases, and hides a class', async () => {
    await page.getByTestId('paint-outline').uncheck();
    const count = async () => Number(await layerAttr('data-foreground'));
    const zoom = 1; // the reload fitted the view again
    const start = await count();
    // Freehand lasso: a triangle dragged in the upper right of the fundus.
    await page.getByTestId('paint-lasso').click();
    const corners: Pt[] = [[380, 150], [460, 150], [420, 220]];
    await page.mouse.move(...(await toPage(corners[0], zoom)));
    await page.mouse.down();
    for (const c of [...corners.slice(1), corners[0]]) await page.mouse.move(...(await toPage(c, zoom)), { steps: 8 });
    await page.mouse.up();
    await expect.poll(count).toBeGreaterThan(start + 2000); // the triangle's area is 2800 pixels
    const afterLasso = await count();
    // Polygon by clicks, closed with Enter.
    for (const c of [[380, 300], [440, 300], [440, 340], [380, 340]] as Pt[]) await page.mouse.click(...(await toPage(c, zoom)));
    await page.keyboard.press('Enter');
    await expect.poll(count).toBeGreaterThan(afterLasso + 2000); // 60 × 40
    await screenshot(page, 'segmentation-45-lasso-polygon');
    // Flood fill on the bright optic disc: a connected region of similar values, not the whole image.
    await page.getByTestId('paint-fill').click();
    await page.getByTestId('paint-tolerance').fill('8');
    const beforeFill = await count();
    await page.mouse.click(...(await toPage([95, 245], zoom)));
    await expect.poll(count).toBeGreaterThan(beforeFill + 50);
    expect(await count()).toBeLessThan(beforeFill + 565 * 584 * 0.5);
    await screenshot(page, 'segmentation-47-flood-fill');
    await page.keyboard.press('Control+z');
    await expect.poll(count).toBe(beforeFill);
    // The eraser takes the polygon back out.
    await page.getByTestId('paint-eraser').click();
    await page.getByTestId('paint-size').fill('50');
    await page.getByTestId('paint-size').press('Tab');
    await page.mouse.move(...(await toPage([385, 320], zoom)));
    await page.mouse.down();
    await page.mouse.move(...(await toPage([435, 320], zoom)), { steps: 6 });
    await page.mouse.up();
    await expect.poll(count).toBeLessThanOrEqual(afterLasso);
    // Hiding the class leaves the layer transparent; the mask itself is unchanged.
    const kept = await count();
    await page.getByTestId('paint-visible-vessel').uncheck();
    await expect.poll(async () => (await canvasSignature(page, LAYER)).sum).toBe(0);
    expect(await count()).toBe(kept);
    await page.getByTestId('paint-visible-vessel').check();
    await expect.poll(async () => (await canvasSignature(page, LAYER)).sum).toBeGreaterThan(0);
    await waitSaved();
    expect((await storedMask())!.labels.filter((v) => v === 1).length).toBe(kept);
    expect(opened.consoleErrors).toEqual([]);
  });
});
