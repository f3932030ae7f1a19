import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { parseCsv, Workspace } from '../../core/store';
import { launchChromium, screenshot, startBrowserMode, type RunningApp } from '../helpers/browser-mode';
import { DICOM_DIR, FUNDUS_DIR, PARITY_DIR } from '../helpers/paths';

/**
 * Managing the reading work (issue 17): progress per reader, task guidelines, case comments, search as
 * you type, label export, the confusion matrices' class names, and browser mode's folder browser, recent
 * workspaces and uploads of dropped files. Real server (with its own HOME and allowed roots), real Chromium.
 */
const LABELLED = 14;
const CT = path.join(DICOM_DIR, 'pydicom_debian', 'CT_small.dcm');

let app: RunningApp;
let browser: Browser;
let page: Page;
let tmp: string;
let home: string;
let dataRoot: string;
let wsDir: string;
const consoleErrors: string[] = [];

interface Api {
  medtune: { invoke(c: string, r: unknown): Promise<{ ok: boolean; value?: unknown; error?: { code: string; message: string } }> };
}
const invoke = (channel: string, request: unknown) =>
  page.evaluate(([c, r]) => (globalThis as unknown as Api).medtune.invoke(c as string, r), [channel, request] as const);

beforeAll(async () => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-e2e-work-')));
  home = path.join(tmp, 'home');
  dataRoot = path.join(tmp, 'data');
  const outside = path.join(tmp, 'outside');
  for (const d of [home, dataRoot, outside, path.join(home, 'studies')]) fs.mkdirSync(d, { recursive: true });
  fs.symlinkSync(outside, path.join(home, 'escape')); // a link out of the allowed roots: never listed
  wsDir = path.join(home, 'studies', 'drive');
  // Images, a task, some labels by another reader and a backbone come in through the services; the rest is driven from the UI.
  const ws = Workspace.create(wsDir, { name: 'DRIVE referable' });
  await ws.import([path.join(FUNDUS_DIR, 'DRIVE', 'training', 'images')]);
  const task = ws.tasks.create({ name: 'referable', kind: 'multiclass', classes: ['no', 'yes'] });
  const cases = ws.listCases({ limit: 100 }).items;
  ws.labels.setMany(cases.slice(0, LABELLED).map((c, i) => ({ caseId: c.id, taskId: task.id, value: i % 3 === 0 ? 'yes' : 'no', author: 'seed' })));
  ws.comments.add(cases[0].id, 'seed', 'Seen by the seed reader');
  ws.versions.addBackbone({
    name: 'parity-tiny',
    arch: 'vit',
    config: JSON.parse(fs.readFileSync(path.join(PARITY_DIR, 'backbone.json'), 'utf8')),
    weights: fs.readFileSync(path.join(PARITY_DIR, 'backbone-timm.safetensors')),
  });
  ws.close();
  app = await startBrowserMode({ HOME: home, MEDTUNE_ALLOWED_ROOTS: dataRoot, XDG_CONFIG_HOME: path.join(tmp, 'config') });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(err.message));
  page.on('dialog', (d) => {
    consoleErrors.push(`unexpected dialog: ${d.message()}`);
    void d.dismiss();
  });
  await page.goto(app.url);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('7. browser mode: folder browser and recent workspaces', () => {
  it('browses folders on the server inside the home folder and the allowed roots only, and opens a workspace from there', async () => {
    await page.getByTestId('open-browse').click();
    await page.getByTestId('folder-browser').waitFor();
    expect(await page.getByTestId('folder-current').textContent()).toContain(home);
    expect(await page.getByTestId('folder-root').allTextContents()).toEqual([home, dataRoot]);
    // The symlink to a folder outside the roots is not shown; at a root there is no way up.
    expect(await page.getByTestId('folder-entry').allTextContents()).toEqual(['studies/']);
    expect(await page.getByTestId('folder-up').count()).toBe(0);
    await page.getByTestId('folder-entry').filter({ hasText: 'studies' }).click();
    await page.getByTestId('folder-entry').filter({ hasText: 'drive' }).click();
    await expect.poll(() => page.getByTestId('folder-current').textContent()).toContain('MedTune workspace');
    await screenshot(page, '40-folder-browser');
    await page.getByTestId('folder-pick').click();
    expect(await page.getByTestId('open-dir').inputValue()).toBe(wsDir);
    // The server refuses to list anything outside the roots, whatever the page asks.
    for (const dir of ['/etc', path.join(home, 'escape'), path.join(home, '..', 'outside')]) {
      const r = await invoke('files.browse', { dir });
      expect(r.ok, dir).toBe(false);
      expect(r.error!.message).toContain('outside the folders MedTune may browse');
    }
    await page.getByTestId('open-submit').click();
    await page.getByTestId('workspace-name').waitFor();
    expect(await page.getByTestId('workspace-name').textContent()).toContain('DRIVE referable');
  });

  it('lists recent workspaces (kept in the config folder) and opens one with a click', async () => {
    await page.getByTestId('close-workspace').click();
    await page.getByTestId('recent-workspaces').waitFor();
    const recent = page.getByTestId('recent-workspace');
    expect(await recent.allTextContents()).toEqual(['DRIVE referable']);
    const stored = JSON.parse(fs.readFileSync(path.join(tmp, 'config', 'medtune', 'recent.json'), 'utf8')) as { dir: string }[];
    expect(stored.map((r) => r.dir)).toEqual([wsDir]);
    await screenshot(page, '41-recent-workspaces');
    await recent.first().click();
    await page.getByTestId('workspace-name').waitFor();
    await page.locator('[data-testid="case-row"]').first().waitFor();
  });
});

describe('1. progress, 2. guidelines, 3. comments, 4. search as you type', () => {
  it('shows labelled / total and each reader in the header, and counts a new label at once', async () => {
    const count = page.getByTestId('progress-count');
    await expect.poll(() => page.getByTestId('progress-labelled').textContent()).toBe(`${LABELLED} / 20`);
    expect(await page.getByTestId('progress-readers').textContent()).toContain(`seed ${LABELLED}`);
    await page.getByTestId('filter-unlabeled').click();
    await expect.poll(() => page.getByTestId('case-count').textContent()).toContain(`${20 - LABELLED} cases`);
    await page.locator('[data-testid="case-row"]').first().click();
    await page.getByTestId('class-yes').click();
    await expect.poll(() => page.getByTestId('progress-labelled').textContent()).toBe(`${LABELLED + 1} / 20`);
    const me = (await invoke('app.info', {})).value as { reader: string };
    expect(await page.getByTestId('progress-readers').textContent()).toContain(`${me.reader} 1`);
    expect(await count.isVisible()).toBe(true);
    await screenshot(page, '42-progress-count');
    await page.getByTestId('filter-all').click();
  });

  it('keeps the task guidelines as Markdown and shows them in a side panel without letting HTML through', async () => {
    await page.getByTestId('guidelines-button').click();
    await page.getByTestId('guidelines-panel').waitFor();
    expect(await page.getByTestId('guidelines-body').textContent()).toContain('No guidelines yet');
    await page.getByTestId('guidelines-edit').click();
    await page.getByTestId('guidelines-text').fill(
      [
        '# Referable retinopathy',
        'Grade **yes** when *any* of these is seen:',
        '- microaneurysms in the `macula`',
        '- haemorrhages',
        '',
        'See [ETDRS](https://www.nei.nih.gov/) and [this](javascript:alert(1)).',
        '<img src=x onerror="alert(1)"><script>alert(2)</script>',
      ].join('\n'),
    );
    await page.getByTestId('guidelines-save').click();
    const body = page.getByTestId('guidelines-body');
    await body.waitFor();
    expect(await body.locator('h2').textContent()).toBe('Referable retinopathy');
    expect(await body.locator('strong').textContent()).toBe('yes');
    expect(await body.locator('li').count()).toBe(2);
    expect(await body.locator('a').count()).toBe(1);
    expect(await body.locator('a').getAttribute('href')).toBe('https://www.nei.nih.gov/');
    // The HTML is shown as text, never as elements.
    expect(await body.locator('img, script').count()).toBe(0);
    expect(await body.textContent()).toContain('<img src=x onerror="alert(1)">');
    expect(await body.textContent()).toContain('[this](javascript:alert(1))');
    await screenshot(page, '43-guidelines');
    // Stored with the task: a reload shows them again.
    await page.reload();
    await page.getByTestId('guidelines-button').click();
    await expect.poll(() => page.getByTestId('guidelines-body').locator('h2').textContent()).toBe('Referable retinopathy');
    await page.getByTestId('guidelines-close').click();
  });

  it('lists comments with author and time beside the viewer; a reader deletes only their own', async () => {
    await page.locator('[data-testid="case-row"]').first().click();
    const panel = page.getByTestId('comments-panel');
    await expect.poll(() => panel.getByTestId('comment').count()).toBe(1);
    expect(await panel.getByTestId('comment').first().textContent()).toContain('Seen by the seed reader · seed');
    expect(await panel.getByTestId('comment-delete').count()).toBe(0);
    await page.getByTestId('comment-text').fill('Check the optic disc <b>again</b>');
    await page.getByTestId('comment-add').click();
    await expect.poll(() => panel.getByTestId('comment').count()).toBe(2);
    const me = ((await invoke('app.info', {})).value as { reader: string }).reader;
    const mine = panel.getByTestId('comment').nth(1);
    expect(await mine.textContent()).toContain(`Check the optic disc <b>again</b> · ${me}`);
    expect(await mine.locator('b').count()).toBe(0);
    expect(await panel.getByTestId('comment-delete').count()).toBe(1);
    await screenshot(page, '44-comments');
    await page.getByTestId('comment-delete').click();
    await expect.poll(() => panel.getByTestId('comment').count()).toBe(1);
    const stored = (await invoke('comments.list', { caseId: Number(await page.locator('[data-testid="case-row"]').first().getAttribute('data-case-id')) }))
      .value as { author: string }[];
    expect(stored.map((c) => c.author)).toEqual(['seed']);
  });

  it('searches as the reader types, without Enter', async () => {
    await page.getByTestId('search').click();
    await page.keyboard.type('25_tr', { delay: 30 });
    await expect.poll(() => page.getByTestId('case-count').textContent()).toContain('1 case');
    expect(await page.locator('[data-testid="case-row"]').first().textContent()).toContain('25_training');
    await screenshot(page, '45-search-as-you-type');
    await page.getByTestId('search').fill('');
    await page.getByTestId('search').press('Backspace');
    await expect.poll(() => page.getByTestId('case-count').textContent()).toContain('20 cases');
    await page.getByTestId('search').press('Escape');
  });
});

describe('5. label export, 7. uploads', () => {
  it('exports the labels as de-identified CSV into a folder picked in the folder browser, and says where', async () => {
    await page.getByTestId('tab-settings').click();
    await page.getByTestId('label-export-choose').click();
    await page.getByTestId('folder-root').filter({ hasText: dataRoot }).click();
    await expect.poll(() => page.getByTestId('folder-current').textContent()).toContain(dataRoot);
    await page.getByTestId('folder-pick').click();
    expect(await page.getByTestId('label-export-dir').inputValue()).toBe(dataRoot);
    expect(await page.getByTestId('export-deidentify').isChecked()).toBe(true);
    await page.getByTestId('label-export-submit').click();
    const status = page.getByTestId('label-export-status');
    await status.waitFor();
    const file = (await status.locator('.mono').textContent())!;
    expect(path.dirname(file)).toBe(dataRoot);
    expect(await status.textContent()).toContain(`Wrote ${LABELLED + 1} labels`);
    const table = parseCsv(fs.readFileSync(file, 'utf8'));
    expect(table.header).toContain('patient_pseudonym');
    expect(table.header).not.toContain('patient_id');
    expect(table.header).not.toContain('file');
    expect(table.rows).toHaveLength(LABELLED + 1);
    await screenshot(page, '46-label-export');
    // JSON with identifiers, into a typed folder that does not exist yet.
    await page.getByTestId('export-json').check();
    await page.getByTestId('export-deidentify').uncheck();
    await page.getByTestId('label-export-dir').fill(path.join(dataRoot, 'json'));
    await page.getByTestId('label-export-submit').click();
    await expect.poll(() => status.locator('.mono').textContent()).toMatch(/json[/\\]referable-labels-.*\.json$/);
    const json = JSON.parse(fs.readFileSync((await status.locator('.mono').textContent())!, 'utf8')) as { labels: { file?: string }[] };
    expect(json.labels).toHaveLength(LABELLED + 1);
    expect(json.labels[0].file).toContain('_training.tif');
  });

  it('uploads files dropped on the import box into the workspace and imports them with the normal importer', async () => {
    const bytes = fs.readFileSync(CT).toString('base64');
    await page.evaluate(
      ([b64]) => {
        const g = globalThis as unknown as {
          atob(s: string): string;
          document: { querySelector(s: string): { dispatchEvent(e: unknown): void } };
          DataTransfer: new () => { items: { add(f: unknown): void } };
          File: new (parts: unknown[], name: string) => unknown;
          DragEvent: new (t: string, init: unknown) => unknown;
        };
        const raw = Uint8Array.from(g.atob(b64), (c) => c.charCodeAt(0));
        const dt = new g.DataTransfer();
        dt.items.add(new g.File([raw], 'CT_small.dcm'));
        dt.items.add(new g.File(['not an image at all'], 'notes.dcm'));
        g.document.querySelector('[data-testid="import-paths"]').dispatchEvent(new g.DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      },
      [bytes] as const,
    );
    const report = page.getByTestId('import-report');
    await report.waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('import-imported').textContent()).toBe('1 imported');
    expect(await report.textContent()).toContain('1 quarantined');
    expect(await report.textContent()).toContain('the workspace now holds 21 cases');
    // The upload batch was imported and removed: the files now live in the blob store only.
    expect(fs.readdirSync(path.join(wsDir, 'uploads'))).toEqual([]);
    await screenshot(page, '47-upload-import');
    // Without the session token the endpoint refuses to write anything.
    const status = await page.evaluate(async () => (await fetch('/upload?batch=abcdef12&name=x.dcm', { method: 'POST', body: 'x' })).status);
    expect(status).toBe(403);
    // Chromium logs that refused request as a console error; it is the one this test asked for.
    const refused = consoleErrors.findIndex((e) => e.includes('status of 403'));
    expect(refused).toBeGreaterThanOrEqual(0);
    consoleErrors.splice(refused, 1);
  });
});

describe('6. the comparison view names the classes', () => {
  it('labels the confusion matrices’ rows (true) and columns (predicted) with the task’s classes', async () => {
    await page.getByTestId('tab-training').click();
    await page.getByTestId('train-epochs').fill('2');
    await page.getByTestId('train-batch').fill('4');
    await page.getByTestId('train-last-layers').fill('1');
    for (let run = 1; run <= 2; run++) {
      await page.getByTestId('train-start').click();
      await expect.poll(() => page.getByTestId('version-row').count(), { timeout: 240_000, interval: 1000 }).toBe(run);
    }
    await page.getByRole('checkbox', { name: 'compare version 1' }).check();
    await page.getByRole('checkbox', { name: 'compare version 2' }).check();
    const compare = page.getByTestId('compare');
    await compare.waitFor();
    const matrices = compare.getByTestId('confusion-matrix');
    expect(await matrices.count()).toBe(2);
    for (let i = 0; i < 2; i++) {
      expect(await matrices.nth(i).getByTestId('confusion-true').allTextContents()).toEqual(['no', 'yes']);
      expect(await matrices.nth(i).getByTestId('confusion-predicted').allTextContents()).toEqual(['no', 'yes']);
    }
    await compare.scrollIntoViewIfNeeded();
    await screenshot(page, '48-confusion-class-names');
    expect(consoleErrors).toEqual([]);
  });
});
