import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { Workspace } from '../../core/store';
import { seededRandom } from '../../core/util/prng';
import { openApp, screenshot, type OpenApp } from '../helpers/browser-mode';
import { PARITY_DIR } from '../helpers/paths';

/**
 * The loop as a reader meets it: label with the keyboard only, a run starts by itself, predictions and
 * suggestion ranks appear in the worklist without a click, and the top suggestion is accepted with `a`.
 * The images are made here, dark vs bright, so that the fixtures' tiny random backbone separates them
 * and the first version is promoted (a real task's first version may well stay a candidate at chance).
 */
const COUNT = 40;
let opened: OpenApp;
let page: Page;
let tmp: string;
let wsDir: string;

async function writeImages(dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const random = seededRandom('loop-e2e');
  for (let i = 0; i < COUNT; i++) {
    const kind = i % 2 ? 'bright' : 'dark';
    const base = kind === 'bright' ? 190 : 60;
    const px = Buffer.from(Array.from({ length: 64 * 64 * 3 }, () => Math.max(0, Math.min(255, base + Math.round((random() - 0.5) * 60)))));
    await sharp(px, { raw: { width: 64, height: 64, channels: 3 } }).png().toFile(path.join(dir, `case_${String(i).padStart(3, '0')}_${kind}.png`));
  }
}

const selectedName = () => page.locator('[data-testid="case-row"][aria-selected="true"] .wl-name').textContent();

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-e2e-loop-'));
  wsDir = path.join(tmp, 'ws');
  await writeImages(path.join(tmp, 'images'));
  const ws = Workspace.create(wsDir, { name: 'loop' });
  await ws.import([path.join(tmp, 'images')]);
  ws.tasks.create({ name: 'brightness', kind: 'multiclass', classes: ['dark', 'bright'] });
  ws.close();
  opened = await openApp();
  page = opened.page;
});

afterAll(async () => {
  await opened?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the learning loop in the browser', () => {
  it('opens the workspace, imports a backbone, and the loop says what it waits for', async () => {
    await page.getByTestId('open-dir').fill(wsDir);
    await page.getByTestId('open-submit').click();
    await page.getByTestId('tab-training').click();
    await page.getByTestId('backbone-file').fill(path.join(PARITY_DIR, 'backbone-timm.safetensors'));
    await page.getByTestId('backbone-import').click();
    await page.getByTestId('backbone-row').waitFor();
    // The Training screen says when it will forecast what more labels bring.
    await expect.poll(() => page.getByTestId('forecast-reason').textContent()).toMatch(/a forecast needs 3 versions trained on at least 2 label counts \(0 versions/);
    await page.getByTestId('tab-reading').click();
    await expect.poll(() => page.getByTestId('loop-state').textContent()).toMatch(/first run starts after 20 labels/);
  });

  it('labels 25 cases with the keyboard only, and a run starts by itself', async () => {
    await page.locator('[data-testid="case-row"]').first().click();
    for (let i = 0; i < 25; i++) {
      const name = (await selectedName()) ?? '';
      const key = name.includes('bright') ? '2' : '1';
      await page.keyboard.press(key);
      await expect.poll(() => page.getByTestId('current-label').textContent()).toBe(key === '1' ? 'dark' : 'bright');
      await page.keyboard.press('Enter');
      await expect.poll(selectedName).not.toBe(name);
    }
    await expect.poll(() => page.getByTestId('loop-state').textContent(), { timeout: 30_000 }).toMatch(/run \d+|version 1/);
    await screenshot(page, '50-loop-run-started');
  });

  it('shows predictions and suggestion ranks in the worklist without a click, then accepts the top suggestion', async () => {
    await expect
      .poll(() => page.getByTestId('loop-state').textContent(), { timeout: 180_000, interval: 1000 })
      .toMatch(/suggestions from version 1/);
    // No click since the labels: the rows on screen were refreshed by the loop's events.
    await expect.poll(() => page.getByTestId('row-rank').count()).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('row-pred').count()).toBeGreaterThan(0);
    await screenshot(page, '51-loop-ranks-live');
    await page.getByTestId('filter-suggested').click();
    await expect.poll(() => page.locator('[data-testid="case-row"]').first().locator('[data-testid="row-rank"]').textContent()).toBe('#1');
    await page.locator('[data-testid="case-row"]').first().click();
    // Why it is suggested: the loop scored the labelled cases too, so mixed's batch has its influence share.
    await expect.poll(() => page.getByTestId('suggestion-reason').textContent()).toMatch(/^\s*Suggested next #1: .+, pick 1 of \d+\s*$/);
    await screenshot(page, '52a-loop-suggestion-reason');
    await page.keyboard.press('a');
    await expect.poll(() => page.getByTestId('current-label').textContent()).toMatch(/^(dark|bright)$/);
    await expect.poll(() => page.getByTestId('suggestion-reason').count()).toBe(0);
    await screenshot(page, '52-loop-accepted-top');
  });

  it('holds a suggested case out for test with T: it leaves the suggestions and shows its split, and T returns it', async () => {
    const second = page.locator('[data-testid="case-row"]').nth(1);
    const id = await second.getAttribute('data-case-id');
    const name = (await second.locator('.wl-name').textContent()) ?? '';
    await second.click();
    await page.keyboard.press('Shift+T');
    await expect.poll(() => page.locator(`[data-testid="case-row"][data-case-id="${id}"]`).count()).toBe(0);
    await page.getByTestId('filter-all').click();
    await page.getByTestId('search').fill(name);
    await page.getByTestId('search').press('Enter');
    await page.getByTestId('search').blur();
    const row = page.locator(`[data-testid="case-row"][data-case-id="${id}"]`);
    await expect.poll(() => row.locator('[data-testid="row-split"]').textContent()).toBe('test');
    await screenshot(page, '53-loop-held-out');
    await row.click();
    await page.keyboard.press('Shift+T');
    await expect.poll(() => row.locator('[data-testid="row-split"]').count()).toBe(0);
  });
});
