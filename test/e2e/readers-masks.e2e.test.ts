import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBinaryMask } from '../../core/segmentation/png-mask';
import { Workspace } from '../../core/store';
import { openApp, openWorkspace, screenshot, type OpenApp } from '../helpers/browser-mode';
import { FUNDUS_DIR } from '../helpers/paths';

// Issue 18 for masks: a vessel segmentation task read twice per case. Ann's masks (the DRIVE manual vessel
// maps) come in through the services; Bob paints his own in Chromium without seeing hers, submits it, the
// Training screen shows their Dice, and a reviewer settles the case with Ann's mask.
const DRIVE = path.join(FUNDUS_DIR, 'DRIVE', 'training');
const IMAGES = ['21', '22'].map((n) => path.join(DRIVE, 'images', `${n}_training.tif`));
const MANUAL = ['21', '22'].map((n) => path.join(DRIVE, '1st_manual', `${n}_manual1.gif`));
const LAYER = '[data-testid="mask-layer"]';
const CANVAS = '[data-testid="viewer-canvas"]';

interface Doc {
  document: { querySelector(s: string): { getAttribute(n: string): string | null } | null };
}
interface Api {
  medtune: { invoke(ch: string, r: unknown): Promise<{ ok: boolean; value: { mask: { labels: Uint8Array } | null } }> };
}

let ui: OpenApp;
let tmp: string;
let caseIds: number[];
let taskId: number;
const page = () => ui.page;
const layerAttr = (name: string) =>
  page().evaluate(([sel, n]) => (globalThis as unknown as Doc).document.querySelector(sel)?.getAttribute(n) ?? null, [LAYER, name] as const);

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-e2e-readers-masks-'));
  const wsDir = path.join(tmp, 'ws');
  const ws = Workspace.create(wsDir, { name: 'Double painting' });
  caseIds = (await ws.import(IMAGES)).caseIds;
  taskId = ws.tasks.create({ name: 'vessels', kind: 'segmentation', classes: ['vessel'] }).id;
  ws.tasks.updateSettings(taskId, { readsPerCase: 2 });
  ws.readers.add({ name: 'ann' });
  ws.readers.add({ name: 'bob' });
  ws.readers.add({ name: 'rev', role: 'reviewer' });
  for (const [i, caseId] of caseIds.entries()) {
    const m = await readBinaryMask(MANUAL[i]);
    const e = ws.masks.save({ taskId, caseId, frame: 0, rows: m.height, columns: m.width, labels: m.labels, author: 'ann' });
    ws.reads.submit({ taskId, caseId, reader: 'ann', value: { maskSha256: e.sha256, rows: e.rows, columns: e.columns } });
  }
  ws.close();
  ui = await openApp();
  await openWorkspace(page(), wsDir);
});

afterAll(async () => {
  await ui?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function switchReader(name: string): Promise<void> {
  await page().getByTestId('reader-button').click();
  await page().getByTestId(`reader-choose-${name}`).click();
  await expect.poll(() => page().getByTestId('reader-current').textContent()).toBe(name);
}

/** A reader's stored mask of the first case, through the app's API as the current reader may see it. */
function maskOf(author?: string): Promise<number[] | null> {
  return page().evaluate(
    async ([t, c, a]) => {
      const result = await (globalThis as unknown as Api).medtune.invoke('masks.get', { taskId: t, caseId: c, frame: 0, ...(a ? { author: a } : {}) });
      return result.ok && result.value.mask ? Array.from(result.value.mask.labels) : null;
    },
    [taskId, caseIds[0], author ?? ''] as const,
  );
}

describe('several readers painting masks', () => {
  it('shows Bob none of Ann’s mask, lets him paint and submit his own', async () => {
    await switchReader('bob');
    await page().getByTestId('tab-reading').click();
    await page().locator(`[data-testid="case-row"][data-case-id="${caseIds[0]}"]`).click();
    await page().waitForFunction(
      ([sel, want]) => (globalThis as unknown as Doc).document.querySelector(sel)?.getAttribute('data-case-id') === want,
      [CANVAS, String(caseIds[0])] as const,
    );
    await expect.poll(() => layerAttr('data-loading')).toBe('false');
    // Ann's mask is stored (and is the frame's latest save), yet the layer Bob paints on is empty.
    expect(await layerAttr('data-foreground')).toBe('0');
    await page().getByTestId('reads-blind').waitFor();
    expect(await maskOf('ann')).toBeNull(); // forbidden: not answered

    // A horizontal brush stroke across the middle of the photograph.
    await page().getByTestId('paint-brush').click();
    const box = (await page().locator(CANVAS).boundingBox())!;
    const y = box.y + box.height / 2;
    await page().mouse.move(box.x + box.width * 0.3, y);
    await page().mouse.down();
    for (let k = 1; k <= 20; k++) await page().mouse.move(box.x + box.width * (0.3 + (0.4 * k) / 20), y, { steps: 2 });
    await page().mouse.up();
    await expect.poll(() => layerAttr('data-save-state'), { timeout: 15_000 }).toBe('saved');
    expect(Number(await layerAttr('data-foreground'))).toBeGreaterThan(100);
    await screenshot(page(), '66-readers-mask-blind');
    await page().getByTestId('paint-submit').click();
    await expect.poll(() => page().getByTestId('reads-state').textContent()).toBe('disagreement');
    expect(await page().getByTestId('paint-submit').count()).toBe(0);
    // Submitted: now he may see Ann's.
    expect((await maskOf('ann'))?.filter(Boolean).length).toBeGreaterThan(1000);
  });

  it('shows the Dice of Ann and Bob on the Training screen', async () => {
    const ann = (await maskOf('ann'))!;
    const bob = (await maskOf('bob'))!;
    let both = 0;
    ann.forEach((v, i) => {
      if (v && bob[i] === v) both++;
    });
    const dice = (2 * both) / (ann.filter(Boolean).length + bob.filter(Boolean).length);
    await page().getByTestId('tab-training').click();
    const row = page().locator('[data-testid="agreement-pairs"] [data-testid="agreement-row"]');
    await row.waitFor();
    expect(await page().getByTestId('agreement-summary').textContent()).toMatch(/Dice of the masks/);
    expect(await row.textContent()).toMatch(new RegExp(`ann – bob\\s*1\\s*${dice.toFixed(2)}`));
    await screenshot(page(), '67-readers-mask-dice');
  });

  it('lets the reviewer settle the case with Ann’s mask', async () => {
    await switchReader('rev');
    await page().getByTestId('tab-reading').click();
    await page().getByTestId('filter-readers-disagree').click();
    await page().locator(`[data-testid="case-row"][data-case-id="${caseIds[0]}"]`).click();
    await expect.poll(() => page().getByTestId('reads-state').textContent()).toBe('disagreement');
    await page().getByTestId('adopt-mask-ann').click();
    await expect.poll(() => page().getByTestId('reads-state').textContent()).toBe('adjudicated');
    await expect.poll(() => layerAttr('data-save-state'), { timeout: 15_000 }).toBe('saved');
    expect(await maskOf()).toEqual(await maskOf('ann'));
    await screenshot(page(), '68-readers-mask-adjudicated');
  });
});
