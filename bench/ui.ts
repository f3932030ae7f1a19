/**
 * UI benchmark in Chromium (browser mode): time from selecting a case to its pixels on screen for a
 * 512² CT, a 1024² JPEG 2000 MR and a DRIVE fundus photo (cold: first open, decoded by the pool);
 * frames per second while stepping through a multi-frame series and while wheel-scrolling a 100-slice 512² CT
 * series (made from a shared CT file by bench/ct-series.ts); worklist scrolling with 50,000 cases
 * (the workspace of bench/worklist.ts, built with --keep).
 *
 *   npm run bench:ui [-- --no-worklist]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { Workspace } from '../core/store';
import { writeCtSeries } from './ct-series';
import { launchChromium, startBrowserMode } from '../test/helpers/browser-mode';
import { DICOM_DIR, FUNDUS_DIR, REPO_ROOT } from '../test/helpers/paths';

const FILES = {
  'CT 512² (CT-MONO2-16-ankle)': path.join(DICOM_DIR, 'octave_dicom_debian', 'CT-MONO2-16-ankle.dcm'),
  'MR 1024² JPEG 2000 (MR2_J2KI)': path.join(DICOM_DIR, 'pydicom_data', 'MR2_J2KI.dcm'),
  'DRIVE fundus 565×584 (21_training)': path.join(FUNDUS_DIR, 'DRIVE', 'training', 'images', '21_training.tif'),
};
const MULTIFRAME = path.join(DICOM_DIR, 'pydicom_data', 'emri_small.dcm');
const CANVAS = '[data-testid="viewer-canvas"]';
const SERIES_SLICES = 100;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-bench-ui-'));

const attr = (page: Page, name: string) => page.locator(CANVAS).getAttribute(name);

async function openWorkspace(page: Page, url: string, dir: string): Promise<void> {
  await page.goto(url);
  await page.getByTestId('open-dir').fill(dir);
  await page.getByTestId('open-submit').click();
  await page.getByTestId('worklist').waitFor();
}

/** "first pixels ms", with the full-resolution time when a reduced JPEG 2000 first view came before it. */
async function paintTimes(page: Page): Promise<string> {
  await page.waitForFunction((sel) => Boolean((globalThis as unknown as { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } }).document.querySelector(sel)?.getAttribute('data-full-ms')), CANVAS);
  const first = await attr(page, 'data-paint-ms');
  const full = await attr(page, 'data-full-ms');
  return first === full ? `${first} ms` : `${first} ms (reduced first view; full resolution ${full} ms)`;
}

async function openBySearch(page: Page, text: string): Promise<string> {
  await page.getByTestId('search').fill(text);
  await page.getByTestId('search').press('Enter');
  await page.waitForFunction((_text) => (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector('[data-testid="case-count"]')?.textContent.startsWith('1 case'), text);
  await page.getByTestId('search').press('Escape');
  const row = page.locator('[data-testid="case-row"]').first();
  const id = await row.getAttribute('data-case-id');
  await row.click();
  await page.waitForFunction(
    ([sel, want]) => (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } }).document.querySelector(sel)?.getAttribute('data-case-id') === want,
    [CANVAS, id] as const,
  );
  return paintTimes(page);
}

async function main(): Promise<void> {
  const dir = path.join(root, 'ws');
  const ws = Workspace.create(dir);
  // The multi-frame series comes first: the reading screen opens it on start, which warms the decoder pool.
  const series = writeCtSeries(FILES['CT 512² (CT-MONO2-16-ankle)'], path.join(root, 'ct-series'), SERIES_SLICES);
  // The series sits between the first case and the three files, so opening the workspace prefetches none of them.
  await ws.import([MULTIFRAME, ...series, ...Object.values(FILES)]);
  ws.close();

  const app = await startBrowserMode();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await openWorkspace(page, app.url, dir);
    await page.waitForFunction((sel) => Boolean((globalThis as unknown as { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } }).document.querySelector(sel)?.getAttribute('data-paint-ms')), CANVAS);
    console.log(`First case on opening the workspace (page load + decoder pool start): ${await attr(page, 'data-paint-ms')} ms`);
    console.log('Selecting a case → pixels on screen, cold (first view of each file, decoded by the warm worker pool):');
    for (const [name, file] of Object.entries(FILES)) {
      console.log(`  ${name.padEnd(36)} ${await openBySearch(page, path.basename(file))}`);
    }

    await openBySearch(page, path.basename(MULTIFRAME));
    const steps = 60;
    const t0 = performance.now();
    for (let i = 1; i <= steps; i++) {
      await page.keyboard.press('ArrowDown');
      const want = String(i % 10);
      await page.waitForFunction(
        ([sel, w]) => (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } }).document.querySelector(sel)?.getAttribute('data-frame') === w,
        [CANVAS, want] as const,
      );
    }
    const fps = steps / ((performance.now() - t0) / 1000);
    console.log(`Stepping a 10-frame MR series with ↓ (incl. key-event round trips): ${fps.toFixed(1)} frames/s`);

    // The series opens at slice 1 (its first file); the wheel then scrolls all 100 slices down and back up. The loop
    // runs in the page (a wheel event, then the next as soon as that slice's own pixels are painted), so the rate is
    // the app's, not the cost of a DevTools round trip per step.
    await openBySearch(page, 'slice-001.dcm');
    await page.waitForFunction(() => (globalThis as unknown as { document: { querySelector(s: string): unknown } }).document.querySelector('[data-testid="stack-slice"]'));
    for (const [pass, delta] of [['down, first pass (slices decoded as prefetch reaches them)', 100], ['back up (slices cached)', -100]] as const) {
      const rate = await page.evaluate(
        async ([sel, n, step]) => {
          interface El {
            getAttribute(name: string): string | null;
            dispatchEvent(e: unknown): boolean;
          }
          const g = globalThis as unknown as {
            document: { querySelector(s: string): El };
            WheelEvent: new (type: string, init: object) => unknown;
            MutationObserver: new (cb: () => void) => { observe(target: El, options: object): void; disconnect(): void };
          };
          const canvas = g.document.querySelector(sel);
          // No helper functions in here: the bundler would wrap them in a name helper the page does not have.
          const t0 = performance.now();
          for (let i = 1; i < n; i++) {
            const before = canvas.getAttribute('data-case-id');
            const want = String(step > 0 ? i : n - 1 - i);
            // The next wheel step goes as soon as this slice's own pixels are painted (the canvas then names its case).
            await new Promise<void>((resolve) => {
              const observer = new g.MutationObserver(() => {
                if (canvas.getAttribute('data-slice') === want && canvas.getAttribute('data-case-id') !== before) {
                  observer.disconnect();
                  resolve();
                }
              });
              observer.observe(canvas, { attributes: true });
              canvas.dispatchEvent(new g.WheelEvent('wheel', { deltaY: step, bubbles: true, cancelable: true }));
            });
          }
          return (n - 1) / ((performance.now() - t0) / 1000);
        },
        [CANVAS, SERIES_SLICES, delta] as const,
      );
      console.log(`Wheel-scrolling a ${SERIES_SLICES}-slice 512² CT series, ${pass}: ${rate.toFixed(1)} slices/s painted`);
    }

    // In worklist order: each case was prefetched while the one before it was read. A reload empties the renderer's
    // cache; the server's few decoded images are by now the series' slices.
    await page.reload();
    await page.locator('[data-testid="case-row"]').first().waitFor();
    await page.locator('.wl-scroller').evaluate((el: unknown) => {
      const box = el as { scrollTop: number; scrollHeight: number };
      box.scrollTop = box.scrollHeight;
    });
    const names = Object.keys(FILES);
    await page.locator('[data-testid="case-row"]', { hasText: path.basename(Object.values(FILES)[0]) }).click();
    await page.waitForFunction((sel) => Boolean((globalThis as unknown as { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } }).document.querySelector(sel)?.getAttribute('data-paint-ms')), CANVAS);
    console.log('Selecting the next case in worklist order (n), prefetched while the previous one was on screen:');
    for (const name of names.slice(1)) {
      const shown = await attr(page, 'data-case-id');
      // Reading time: the prefetch of the next cases runs meanwhile.
      await page.waitForTimeout(1500);
      await page.keyboard.press('n');
      await page.waitForFunction(
        ([sel, prev]) => {
          const el = (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } }).document.querySelector(sel);
          return Boolean(el && el.getAttribute('data-case-id') !== prev && el.getAttribute('data-paint-ms'));
        },
        [CANVAS, shown] as const,
      );
      console.log(`  ${name.padEnd(36)} ${await paintTimes(page)}`);
    }

    if (!process.argv.includes('--no-worklist')) {
      const big = path.join(root, 'big');
      console.log('Building a 50,000-case workspace (bench/worklist.ts --keep)…');
      execFileSync(process.execPath, ['--import', 'tsx', 'bench/worklist.ts', '--keep', big], { cwd: REPO_ROOT, stdio: 'ignore' });
      await page.getByTestId('close-workspace').click();
      await openWorkspace(page, app.url, path.join(big, 'ws'));
      await page.waitForFunction(() => (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector('[data-testid="case-count"]')?.textContent.includes('50000'));
      const scroller = page.locator('.wl-scroller');
      const stats = await scroller.evaluate(async (el: unknown) => {
        const box = el as { scrollTop: number; scrollHeight: number };
        const raf = (globalThis as unknown as { requestAnimationFrame(cb: (t: number) => void): void }).requestAnimationFrame;
        const frames: number[] = [];
        let last = await new Promise<number>((r) => raf(r));
        for (let i = 0; i < 300; i++) {
          box.scrollTop += 400; // ~8 rows per frame, a fast fling
          const now = await new Promise<number>((r) => raf(r));
          frames.push(now - last);
          last = now;
        }
        frames.sort((a, b) => a - b);
        return { median: frames[150], p95: frames[285], scrolled: box.scrollTop, height: box.scrollHeight };
      });
      const rows = await page.locator('[data-testid="case-row"], .wl-row.placeholder').count();
      console.log(
        `Worklist, 50,000 cases: 300 scroll steps, frame time median ${stats.median.toFixed(1)} ms, p95 ${stats.p95.toFixed(1)} ms; ` +
          `${rows} row elements in the DOM`,
      );
    }
  } finally {
    await browser.close();
    await app.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
