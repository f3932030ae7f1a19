import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, screenshot, startBrowserMode, type RunningApp } from '../helpers/browser-mode';

let app: RunningApp;
let browser: Browser;
let page: Page;
let tmp: string;
const consoleErrors: string[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-e2e-'));
  app = await startBrowserMode();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(err.message));
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('first run in browser mode', () => {
  it('shows the welcome screen over the WebSocket bridge', async () => {
    await page.goto(app.url);
    await page.getByRole('heading', { name: 'Welcome to MedTune' }).waitFor();
    await expect(page.locator('.app-meta').textContent()).resolves.toContain('browser mode');
    await screenshot(page, '01-welcome');
  });

  it('explains a bad folder instead of failing', async () => {
    await page.getByTestId('open-dir').fill(path.join(tmp, 'does-not-exist'));
    await page.getByTestId('open-submit').click();
    const error = page.getByTestId('error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/does-not-exist/);
  });

  it('creates a workspace and sees an empty worklist', async () => {
    const dir = path.join(tmp, 'retina');
    await page.getByTestId('create-dir').fill(dir);
    await page.getByTestId('create-name').fill('Retina grading');
    await page.getByTestId('create-submit').click();
    await page.getByTestId('worklist-empty').waitFor();
    expect(await page.getByTestId('workspace-name').textContent()).toContain('Retina grading');
    expect(await page.getByTestId('case-count').textContent()).toContain('0 cases');
    expect(fs.existsSync(path.join(dir, 'medtune.sqlite'))).toBe(true);
    const shot = await screenshot(page, '02-empty-worklist');
    expect(fs.statSync(shot).size).toBeGreaterThan(1000);
  });

  it('a page without the token cannot reach the workspace', async () => {
    const other = await browser.newPage();
    await other.goto(app.url.replace(/\?token=.*/, ''));
    await other.getByRole('heading', { name: 'Welcome to MedTune' }).waitFor();
    await other.getByTestId('open-dir').fill(path.join(tmp, 'retina'));
    await other.getByTestId('open-submit').click();
    const error = other.getByTestId('error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/Cannot reach the MedTune server/);
    await other.close();
  });

  it('logged no errors in the page except the refused connection', () => {
    expect(consoleErrors.filter((e) => !/WebSocket|403|ERR_/.test(e))).toEqual([]);
  });
});
