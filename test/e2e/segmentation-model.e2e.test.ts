import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createWorkspaceAndImport, openApp, screenshot, type OpenApp } from '../helpers/browser-mode';
import { FUNDUS_DIR, PARITY_DIR } from '../helpers/paths';

/**
 * The model side of segmentation (issue 16) in real Chromium: vessel masks of five DRIVE photographs, the tiny
 * parity ViT trained from the Training screen, the predicted mask shown as an overlay naming its version, one
 * prediction edited and stored as edited-prediction, another accepted as it is.
 */
const DRIVE = path.join(FUNDUS_DIR, 'DRIVE', 'training');
const IDS = ['21', '22', '23', '24', '25', '26', '27'];
const LAYER = '[data-testid="mask-layer"]';
const CANVAS = '[data-testid="viewer-canvas"]';

let opened: OpenApp;
let page: Page;
let tmp: string;
let taskId: number;
const caseIds = new Map<string, number>();

interface Doc {
  document: { querySelector(s: string): { getAttribute(n: string): string | null } | null };
}
type Invoke = { medtune: { invoke(ch: string, r: unknown): Promise<{ ok: boolean; value: unknown; error?: { message: string } }> } };

/** Calls the app's own API from the page. */
async function api<T>(channel: string, request: unknown): Promise<T> {
  const result = await page.evaluate(async ([ch, req]) => (globalThis as unknown as Invoke).medtune.invoke(ch as string, req), [channel, request] as const);
  if (!result.ok) throw new Error(`${channel}: ${result.error?.message}`);
  return result.value as T;
}

const layerAttr = (name: string) =>
  page.evaluate(([sel, n]) => (globalThis as unknown as Doc).document.querySelector(sel)?.getAttribute(n) ?? null, [LAYER, name] as const);

async function openCase(id: string): Promise<void> {
  await page.getByTestId('search').fill(`${id}_training`);
  await page.getByTestId('search').press('Enter');
  await expect.poll(() => page.getByTestId('case-count').textContent()).toContain('1 case');
  await page.getByTestId('search').press('Escape');
  await page.locator('[data-testid="case-row"]').first().click();
  await page.waitForFunction(
    ([sel, want]) => (globalThis as unknown as Doc).document.querySelector(sel)?.getAttribute('data-case-id') === want,
    [CANVAS, String(caseIds.get(id))] as const,
  );
  await expect.poll(() => layerAttr('data-loading')).toBe('false');
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-e2e-segmodel-'));
  opened = await openApp();
  page = opened.page;
  await createWorkspaceAndImport(page, path.join(tmp, 'ws'), IDS.map((id) => path.join(DRIVE, 'images', `${id}_training.tif`)));
});

afterAll(async () => {
  await opened?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('segmentation model in the app', () => {
  it('imports DRIVE vessel masks for five cases into a segmentation task', async () => {
    await page.getByTestId('task-name').fill('Vessels');
    await page.getByTestId('task-kind').selectOption('segmentation');
    await page.getByTestId('class-name-0').fill('vessel');
    await page.getByTestId('task-submit').click();
    await page.getByTestId('task-summary').waitFor();
    taskId = (await api<{ id: number }[]>('tasks.list', {}))[0].id;
    for (const c of (await api<{ items: { id: number; displayName: string }[] }>('cases.list', {})).items) caseIds.set(c.displayName.split('_')[0], c.id);
    for (const id of IDS.slice(0, 5)) {
      await api('masks.import', { taskId, caseId: caseIds.get(id), frame: 0, format: 'png-binary', files: [path.join(DRIVE, '1st_manual', `${id}_manual1.gif`)] });
    }
    expect((await api<{ labelled: number }>('work.progress', { taskId })).labelled).toBe(5);
  });

  it('trains the tiny backbone from the Training screen: a version scored by mean Dice', async () => {
    await page.getByTestId('tab-training').click();
    await page.getByTestId('backbone-file').fill(path.join(PARITY_DIR, 'backbone-timm.safetensors'));
    await page.getByTestId('backbone-import').click();
    await page.getByTestId('backbone-row').waitFor();
    await page.getByTestId('train-epochs').fill('2');
    await page.getByTestId('train-batch').fill('8');
    await page.getByTestId('train-start').click();
    await page.getByTestId('train-progress').waitFor();
    const result = page.getByTestId('train-result');
    await result.waitFor({ timeout: 300_000 });
    expect(await result.textContent()).toMatch(/Version 1 is now active/);
    await page.locator('[data-testid="train-card"] details summary').click();
    expect(await page.getByTestId('run-log').textContent()).toMatch(/mean Dice \d\.\d\d \(95 % CI/);
    // The run predicted and ranked the cases itself: the learning loop does not try to score with a classifier.
    await page.waitForTimeout(1000);
    expect(await page.textContent('body')).not.toMatch(/scoring with version \d+ failed/);
    await screenshot(page, 'segmentation-50-trained');
  });

  it('shows the predicted mask of an unlabelled case as an overlay naming its version; an edit is stored as edited-prediction', async () => {
    await page.getByTestId('tab-reading').click();
    await openCase('26');
    await expect.poll(() => layerAttr('data-prediction')).toBe('1');
    expect(await page.getByTestId('mask-prediction-badge').textContent()).toMatch(/Predicted by v1 · DVPT/);
    await screenshot(page, 'segmentation-60-prediction');
    await page.getByTestId('paint-edit-prediction').click();
    await expect.poll(() => page.getByTestId('mask-prediction-badge').textContent()).toMatch(/Editing the prediction of v1/);
    // One correction: a vessel painted across the middle of the image (whatever the weak model predicted there).
    await page.getByTestId('paint-brush').click();
    await page.getByTestId('paint-size').fill('6');
    await page.getByTestId('paint-size').press('Tab');
    const box = (await page.locator(CANVAS).boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 10 });
    await page.mouse.up();
    await expect.poll(() => layerAttr('data-save-state'), { timeout: 15_000 }).toBe('saved');
    const history = await api<{ source: string; adapterVersionId?: number }[]>('masks.history', { taskId, caseId: caseIds.get('26') });
    expect(history.map((e) => [e.source, e.adapterVersionId])).toEqual([['edited-prediction', 1]]);
    await screenshot(page, 'segmentation-70-edited');
  });

  it('accepts another case’s prediction as it is', async () => {
    await openCase('27');
    await expect.poll(() => layerAttr('data-prediction')).toBe('1');
    const predicted = Number((await api<{ prediction: { foreground: number } }>('masks.get', { taskId, caseId: caseIds.get('27'), frame: 0 })).prediction.foreground);
    await page.getByTestId('paint-accept-prediction').click();
    await expect.poll(() => layerAttr('data-saved-event')).not.toBe('');
    const stored = (await api<{ mask: { source: string; adapterVersionId: number; foreground: number } }>('masks.get', { taskId, caseId: caseIds.get('27'), frame: 0 })).mask;
    expect(stored).toMatchObject({ source: 'accepted-prediction', adapterVersionId: 1, foreground: predicted });
    expect(await layerAttr('data-foreground')).toBe(String(predicted));
    await screenshot(page, 'segmentation-80-accepted');
    expect(opened.consoleErrors).toEqual([]);
  });
});
