import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT, TEST_OUTPUT_DIR } from './paths';

export const CHROMIUM_PATH = process.env.MEDTUNE_CHROMIUM ?? '/usr/bin/chromium';

/** The real `npm run web` server process (without its build step), and the URL it printed. */
export interface RunningApp {
  url: string;
  port: number;
  token: string;
  process: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** Sends `signal` (SIGTERM by default) and resolves with the exit code once the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts core/bridge/web-main.ts exactly as the "web" script runs it (one process, `node --import tsx`).
 * `env` adds variables, e.g. MEDTUNE_RENDERER_DIR for a stand-in renderer or HOME for `~` expansion.
 */
export async function startBrowserMode(env: Record<string, string> = {}): Promise<RunningApp> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'core/bridge/web-main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`browser mode did not start:\n${output}`)), 60_000);
    const poll = setInterval(() => {
      const match = output.match(/http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+/);
      if (match) {
        clearTimeout(timer);
        clearInterval(poll);
        resolve(match[0]);
      }
    }, 50);
    void exited.then((code) => {
      clearTimeout(timer);
      clearInterval(poll);
      reject(new Error(`browser mode exited with ${code}:\n${output}`));
    });
  });
  const parsed = new URL(url);
  return {
    url,
    port: Number(parsed.port),
    token: parsed.searchParams.get('token')!,
    process: child,
    output: () => output,
    stop: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install it with "apt-get install -y chromium" (see README).`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Saves a screenshot under test-output/e2e/ and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = path.join(TEST_OUTPUT_DIR, 'e2e');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** The little of the DOM these page functions touch (the test tsconfig has no DOM library). */
interface PageCanvas {
  width: number;
  height: number;
  getAttribute(name: string): string | null;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}

/** A cheap fingerprint of a canvas's pixels (sum and a sparse hash), to tell whether what it shows changed. */
export async function canvasSignature(page: Page, selector: string): Promise<{ width: number; sum: number; hash: number }> {
  return page.evaluate((sel) => {
    const canvas = (globalThis as unknown as { document: { querySelector(s: string): PageCanvas | null } }).document.querySelector(sel);
    if (!canvas || canvas.width === 0) return { width: 0, sum: 0, hash: 0 };
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0;
    let hash = 0;
    for (let i = 0; i < data.length; i += 4) {
      sum += data[i] + data[i + 1] + data[i + 2];
      if (i % 1024 === 0) hash = (hash * 31 + data[i] + 7 * data[i + 1]) >>> 0;
    }
    return { width: canvas.width, sum, hash };
  }, selector);
}

/** Browser mode, Chromium and one page on the app at the tests' viewport, with the page's console errors collected. */
export interface OpenApp {
  app: RunningApp;
  browser: Browser;
  page: Page;
  consoleErrors: string[];
  close(): Promise<void>;
}

/** Opens a workspace folder from the start screen, as a user types its path, and waits for the worklist. */
export async function openWorkspace(page: Page, dir: string): Promise<void> {
  await page.getByTestId('open-dir').fill(dir);
  await page.getByTestId('open-submit').click();
  await page.getByTestId('worklist').waitFor();
}

export async function openApp(env: Record<string, string> = {}): Promise<OpenApp> {
  const app = await startBrowserMode(env);
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const consoleErrors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(err.message));
  await page.goto(app.url);
  return {
    app,
    browser,
    page,
    consoleErrors,
    close: async () => {
      await browser.close();
      await app.stop();
    },
  };
}

/** Creates a workspace in the welcome screen and imports `paths` through the import box, as a user types them. */
export async function createWorkspaceAndImport(page: Page, dir: string, paths: string[]): Promise<void> {
  await page.getByTestId('create-dir').fill(dir);
  await page.getByTestId('create-submit').click();
  await page.getByTestId('worklist-empty').waitFor();
  await page.getByTestId('tab-settings').click();
  await page.getByTestId('import-paths').fill(paths.join('\n'));
  await page.getByTestId('import-start').click();
  await page.getByTestId('import-report').waitFor({ timeout: 120_000 });
}
