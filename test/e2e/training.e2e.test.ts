import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { Workspace } from '../../core/store';
import { launchChromium, screenshot, startBrowserMode, type RunningApp } from '../helpers/browser-mode';
import { FUNDUS_DIR, PARITY_DIR } from '../helpers/paths';

let app: RunningApp;
let browser: Browser;
let page: Page;
let tmp: string;
let wsDir: string;
const UNLABELED = 6;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-e2e-train-'));
  wsDir = path.join(tmp, 'ws');
  // Images and labels come in through the services (the labelling UI has its own test); training is driven from the UI.
  const ws = Workspace.create(wsDir, { name: 'DRIVE referable' });
  await ws.import([path.join(FUNDUS_DIR, 'DRIVE', 'training', 'images')]);
  const task = ws.tasks.create({ name: 'referable', kind: 'multiclass', classes: ['no', 'yes'] });
  const cases = ws.listCases({ limit: 100 }).items;
  ws.labels.setMany(cases.slice(UNLABELED).map((c, i) => ({ caseId: c.id, taskId: task.id, value: i % 3 === 0 ? 'yes' : 'no', author: 'seed' })));
  ws.close();
  app = await startBrowserMode();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(app.url);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('train, watch progress, version, predict, suggest, accept', () => {
  it('opens the workspace and imports the backbone from a .safetensors file', async () => {
    await page.getByTestId('open-dir').fill(wsDir);
    await page.getByTestId('open-submit').click();
    await page.getByTestId('tab-training').click();
    await page.getByTestId('backbone-file').fill(path.join(PARITY_DIR, 'backbone-timm.safetensors'));
    await page.getByTestId('backbone-import').click();
    const row = page.getByTestId('backbone-row');
    await row.waitFor();
    expect(await row.textContent()).toMatch(/ViT 48d × 3.*SHA-256 c3e992cb4538/s);
  });

  it('trains in the background with live progress until a new version appears; at chance it is promoted by hand', async () => {
    await page.getByTestId('train-epochs').fill('3');
    await page.getByTestId('train-batch').fill('4');
    // Adapters in the last block of the depth-3 backbone: blocks 0..1 are computed once and cached.
    await page.getByTestId('train-last-layers').fill('1');
    expect(await page.getByTestId('train-prefix-cache').isChecked()).toBe(true);
    await page.getByTestId('train-start').click();
    await page.getByTestId('train-progress').waitFor();
    const result = page.getByTestId('train-result');
    await result.waitFor({ timeout: 180_000 });
    // A handful of validation cases: the first version is at chance, so it is kept as a candidate and says why.
    expect(await result.textContent()).toMatch(/Version 1 is kept as a candidate/);
    expect(await page.getByTestId('train-reason').textContent()).toMatch(/version 1 is a candidate: kept as a candidate: the model is at chance/);
    expect(await page.getByTestId('train-percent').textContent()).toBe('100%');
    expect(await page.locator('[data-testid="loss-chart"] polyline').count()).toBe(1);
    await expect.poll(() => page.getByTestId('version-row').count()).toBe(1);
    expect(await page.getByTestId('version-status').first().textContent()).toMatch(/^candidate/);
    // The reader decides: Promote makes it the active version.
    await page.getByTestId('promote-1').click();
    await expect.poll(async () => (await page.getByTestId('version-status').first().textContent())?.trim()).toMatch(/^active/);
    expect(await page.getByTestId('version-notes').textContent()).toMatch(/Version 1: kept as a candidate: the model is at chance .* — then promoted by hand/);
    expect(await page.getByTestId('run-row').first().textContent()).toMatch(/done.*dvpt.*wasm|done.*dvpt.*cpu/s);
    await page.locator('[data-testid="train-card"] details summary').click();
    const log = await page.getByTestId('run-log').textContent();
    expect(log).toMatch(/preparing: prefix cache on: frozen blocks 0\.\.1 run once per image/);
    expect(log).toMatch(/preparing: prefix cache built in [\d.]+ s .*; epochs compute blocks 2\.\.2/);
    expect(log).toMatch(/computing on /);
    // Per-image cache counters update one line instead of filling the log.
    expect(log!.match(/caching frozen blocks/g)?.length ?? 0).toBeLessThanOrEqual(1);
    await screenshot(page, '20-training');
    // Augmentation changes the pixels every epoch: the cache box turns off and says why.
    await page.getByTestId('train-augmentation').selectOption('fundus');
    expect(await page.getByTestId('train-prefix-cache').isDisabled()).toBe(true);
    expect(await page.getByTestId('train-prefix-cache').isChecked()).toBe(false);
    expect(await page.getByTestId('train-prefix-cache-hint').textContent()).toMatch(/augmented images change every epoch/);
    await page.getByTestId('train-augmentation').selectOption('none');
    expect(await page.getByTestId('train-prefix-cache').isChecked()).toBe(true);
    // The settings grid says how many settings it compares: six for an adapter, two for the probe.
    const grid = page.locator('label', { has: page.getByTestId('train-grid') });
    expect(await page.getByTestId('train-grid').isChecked()).toBe(false);
    expect(await grid.textContent()).toMatch(/Try settings and keep the best \(6 settings compared on the validation cases, at most 15 min\)/);
    await page.getByTestId('train-method').selectOption('linear');
    expect(await grid.textContent()).toMatch(/\(2 settings compared/);
    expect(await grid.getAttribute('title')).toMatch(/with and without class weights/);
    await page.getByTestId('train-method').selectOption('dvpt');
  });

  it('exports the active version into the workspace exports/ folder typed in the path field', async () => {
    await page.getByTestId('export-1').click();
    const field = page.getByTestId('export-dir');
    expect(await field.inputValue()).toBe(path.join(wsDir, 'exports'));
    await page.getByTestId('export-submit').click();
    const target = path.join(wsDir, 'exports', 'medtune-referable-v1');
    await expect.poll(() => page.getByTestId('export-status').textContent(), { timeout: 30_000 }).toContain(target);
    expect(fs.readdirSync(target).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'medtune_version.json']);
    await screenshot(page, '22-version-exported');
    // A second export into the same folder is refused with a message naming it.
    await page.getByTestId('export-1').click();
    await page.getByTestId('export-submit').click();
    await expect.poll(() => page.getByTestId('training-error').textContent()).toContain(`${target} already exists`);
  });

  it('predicts every case and suggests the unlabeled ones', async () => {
    await page.getByTestId('predict').click();
    await expect.poll(() => page.getByTestId('predict-status').textContent(), { timeout: 60_000 }).toMatch(/predicted 20 cases/);
    await page.getByTestId('strategy').selectOption('entropy');
    await page.getByTestId('suggest').click();
    await expect.poll(() => page.getByTestId('suggest-status').textContent()).toMatch(new RegExp(`${UNLABELED} cases suggested`));
  });

  it('shows the suggestions in the worklist and accepts the model suggestion with one key', async () => {
    await page.getByTestId('tab-reading').click();
    await page.getByTestId('filter-suggested').click();
    await expect.poll(() => page.getByTestId('case-count').textContent()).toContain(`${UNLABELED} cases`);
    await page.getByTestId('case-row').first().click();
    await page.keyboard.press('a');
    await expect.poll(() => page.getByTestId('current-label').textContent()).toMatch(/^(no|yes)$/);
    await screenshot(page, '21-suggestion-accepted');
  });

  it('cancels a running training run', async () => {
    await page.getByTestId('tab-training').click();
    await page.getByTestId('train-epochs').fill('200');
    await page.getByTestId('train-start').click();
    await page.getByTestId('train-cancel').click();
    await expect.poll(() => page.getByTestId('run-row').first().textContent(), { timeout: 60_000 }).toMatch(/cancelled/);
    await expect.poll(() => page.getByTestId('version-row').count()).toBe(1);
  });
});
