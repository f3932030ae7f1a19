import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, screenshot, startBrowserMode, type RunningApp } from '../helpers/browser-mode';
import { MEDTUNE_AET, ORTHANC_AET, ORTHANC_PASSWORD, ORTHANC_USER, OrthancServer, orthancMissing, sharedDicomFiles } from '../helpers/orthanc';

const missing = orthancMissing();
if (missing) console.warn(`skipping the PACS panel e2e test: ${missing}`);

/** The browser-mode server reads the Basic password from its own environment, under this name. */
const PW_VAR = 'MEDTUNE_E2E_PACS_PW';

interface Api {
  medtune: { invoke(c: string, r: unknown): Promise<{ ok: boolean; value?: unknown; error?: { code: string; message: string } }> };
}

describe.skipIf(missing)('PACS panel in browser mode against a real Orthanc', () => {
  let orthanc: OrthancServer;
  let app: RunningApp;
  let browser: Browser;
  let page: Page;
  let tmp: string;
  const consoleErrors: string[] = [];
  let retrievedStudyUid = '';

  beforeAll(async () => {
    orthanc = await OrthancServer.start();
    await orthanc.upload(sharedDicomFiles());
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-e2e-pacs-'));
    app = await startBrowserMode({ [PW_VAR]: ORTHANC_PASSWORD });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('console', (msg) => msg.type() === 'error' && consoleErrors.push(msg.text()));
    page.on('pageerror', (err) => consoleErrors.push(err.message));
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await orthanc?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('adds a connection, says plainly when credentials are wrong, and tests the right one', async () => {
    await page.goto(app.url);
    await page.getByTestId('create-dir').fill(path.join(tmp, 'ws'));
    await page.getByTestId('create-submit').click();
    await page.getByTestId('worklist-empty').waitFor();
    await page.getByTestId('tab-settings').click();
    const panel = page.getByTestId('pacs-panel');
    await panel.waitFor();

    await page.getByTestId('pacs-add-open').click();
    await page.getByTestId('pacs-name').fill('wrong');
    await page.getByTestId('pacs-url').fill(orthanc.dicomWebUrl);
    await page.getByTestId('pacs-user').fill('nobody');
    await page.getByTestId('pacs-secret-env-name').fill(PW_VAR);
    await page.getByTestId('pacs-save').click();
    await page.getByTestId('pacs-add-form').waitFor({ state: 'detached' });
    await page.getByTestId('pacs-test').click();
    await expect.poll(() => page.getByTestId('pacs-echo').textContent()).toMatch(/✗ The PACS refused us: .*refused the credentials \(HTTP 401\)/);
    await page.getByTestId('pacs-remove').click();

    // A Bearer token (Orthanc takes none: it answers 401, said as plainly), from an environment variable.
    await page.getByTestId('pacs-add-open').click();
    await page.getByTestId('pacs-name').fill('tokened');
    await page.getByTestId('pacs-url').fill(orthanc.dicomWebUrl);
    await page.getByTestId('pacs-auth-kind').selectOption('bearer');
    expect(await page.getByTestId('pacs-user').count()).toBe(0);
    await page.getByTestId('pacs-secret-env-name').fill(PW_VAR);
    await screenshot(page, '29-pacs-bearer-form');
    await page.getByTestId('pacs-save').click();
    await expect.poll(() => page.getByTestId('pacs-description').textContent()).toContain(`bearer token from $${PW_VAR}`);
    await page.getByTestId('pacs-test').click();
    await expect.poll(() => page.getByTestId('pacs-echo').textContent()).toMatch(/✗ The PACS refused us: .*\(HTTP 401\)/);
    await page.getByTestId('pacs-remove').click();

    await page.getByTestId('pacs-add-open').click();
    await page.getByTestId('pacs-name').fill('orthanc');
    await page.getByTestId('pacs-url').fill(orthanc.dicomWebUrl);
    await page.getByTestId('pacs-user').fill(ORTHANC_USER);
    await page.getByTestId('pacs-secret-env-name').fill(PW_VAR);
    await page.getByTestId('pacs-save').click();
    await expect.poll(() => page.getByTestId('pacs-description').textContent()).toContain(`password from $${PW_VAR}`);
    expect(await page.getByTestId('pacs-connection').locator('option').allTextContents()).toEqual(['orthanc']);
    await page.getByTestId('pacs-test').click();
    await expect.poll(() => page.getByTestId('pacs-echo').textContent()).toMatch(/✓ orthanc answered \(DICOMweb\)/);
    expect(await panel.textContent()).not.toContain(ORTHANC_PASSWORD);
  });

  it('searches, opens a study to its series, retrieves it, and the worklist shows its cases', async () => {
    const studies = await orthanc.rest<string[]>('/studies');
    await page.getByTestId('pacs-search').click();
    await expect.poll(() => page.getByTestId('pacs-result-count').textContent()).toContain(`${studies.length} studies`);

    // The study with the most series among those with a plain patient ID and a UID no other study shares
    // (one shared file pair holds the same study under two patients), searched for by that ID.
    const details = await Promise.all(studies.map((id) => orthanc.rest<{ PatientMainDicomTags: { PatientID?: string }; MainDicomTags: { StudyInstanceUID: string }; Series: string[] }>(`/studies/${id}`)));
    const uidCount = (uid: string) => details.filter((d) => d.MainDicomTags.StudyInstanceUID === uid).length;
    const target = details.filter((d) => /^[A-Za-z0-9-]+$/.test(d.PatientMainDicomTags.PatientID ?? '') && uidCount(d.MainDicomTags.StudyInstanceUID) === 1).sort((a, b) => b.Series.length - a.Series.length)[0];
    const patientId = target.PatientMainDicomTags.PatientID!;
    retrievedStudyUid = target.MainDicomTags.StudyInstanceUID;
    await page.getByTestId('pacs-q-patient-id').fill(patientId);
    await page.getByTestId('pacs-search').click();
    const row = page.locator(`[data-testid="pacs-study"][data-study-uid="${target.MainDicomTags.StudyInstanceUID}"]`);
    await row.waitFor();
    expect(await row.getByTestId('pacs-series-count').textContent()).toBe(String(target.Series.length));
    await row.getByTestId('pacs-expand').click();
    await expect.poll(() => page.getByTestId('pacs-series').count()).toBe(target.Series.length);
    await row.getByTestId('pacs-choose-study').check();
    await screenshot(page, '30-pacs-search');

    await page.getByTestId('pacs-retrieve').click();
    await page.getByTestId('pacs-report').waitFor({ timeout: 120_000 });
    const imported = Number((await page.getByTestId('pacs-imported').textContent())!.match(/(\d+) imported/)![1]);
    expect(imported).toBeGreaterThan(0);
    expect(await page.getByTestId('pacs-report').textContent()).toContain(`the workspace now holds ${imported} cases`);
    await screenshot(page, '31-pacs-retrieved');

    await page.getByTestId('tab-reading').click();
    await expect.poll(() => page.getByTestId('case-count').textContent()).toContain(`${imported} case`);
    await expect.poll(() => page.getByTestId('overlay-patient').textContent()).toContain(patientId);
    // Named after where they came from, not after the staging file (deleted after the import).
    expect(await page.getByTestId('case-row').first().textContent()).toContain('orthanc · ');
    await expect.poll(() => page.getByTestId('overlay-frame').textContent()).toContain('orthanc · ');
    await screenshot(page, '32-pacs-worklist');
  });

  it('sends the current task’s labels of the retrieved cases back, and Orthanc keeps the report', async () => {
    const invoke = async <T>(channel: string, request: unknown): Promise<T> => {
      const r = await page.evaluate(([c, q]) => (globalThis as unknown as Api).medtune.invoke(c as string, q), [channel, request] as const);
      if (!r.ok) throw new Error(`${channel}: ${r.error?.message}`);
      return r.value as T;
    };
    const task = await invoke<{ id: number }>('tasks.create', { name: 'quality', kind: 'multiclass', classes: [{ name: 'good' }, { name: 'poor' }] });
    const cases = await invoke<{ items: { id: number }[] }>('cases.list', {});
    await invoke('labels.set', { caseId: cases.items[0].id, taskId: task.id, value: 'good' });
    await page.reload();
    await page.getByTestId('tab-settings').click();
    await page.getByTestId('pacs-send-back').waitFor();
    expect(await page.getByTestId('pacs-send-back').textContent()).toContain('Labels of quality');
    const before = (await orthanc.rest<string[]>('/instances')).length;
    await page.getByTestId('pacs-send-all').click();
    await expect.poll(() => page.getByTestId('pacs-sent').textContent()).toBe('✓ Sent 1 report (1 labelled case of "quality", from orthanc) to orthanc by STOW-RS.');
    await screenshot(page, '33-pacs-sent-back');
    expect((await orthanc.rest<string[]>('/instances')).length).toBe(before + 1);
  });

  it('retrieves a study over C-MOVE through a DIMSE-only connection with our own port', async () => {
    await page.getByTestId('pacs-add-open').click();
    await page.getByTestId('pacs-name').fill('mover');
    await page.getByTestId('pacs-aet').fill(ORTHANC_AET);
    await page.getByTestId('pacs-host').fill('127.0.0.1');
    await page.getByTestId('pacs-port').fill(String(orthanc.dicomPort));
    await page.getByTestId('pacs-calling-aet').fill(MEDTUNE_AET);
    await page.getByTestId('pacs-listen-port').fill(String(orthanc.movePort));
    await page.getByTestId('pacs-save').click();
    await expect.poll(() => page.getByTestId('pacs-description').textContent()).toContain(`(C-MOVE to port ${orthanc.movePort})`);

    // A study not retrieved yet, with images, whose UID no other study shares.
    const details = await Promise.all((await orthanc.rest<string[]>('/studies')).map((id) => orthanc.rest<{ MainDicomTags: { StudyInstanceUID: string }; Instances?: string[]; Series: string[] }>(`/studies/${id}`)));
    const uids = details.map((d) => d.MainDicomTags.StudyInstanceUID);
    const modalities = async (seriesIds: string[]) => Promise.all(seriesIds.map(async (id) => (await orthanc.rest<{ MainDicomTags: { Modality?: string } }>(`/series/${id}`)).MainDicomTags.Modality));
    let studyUid = '';
    for (const d of details) {
      const uid = d.MainDicomTags.StudyInstanceUID;
      if (uid === retrievedStudyUid || uids.indexOf(uid) !== uids.lastIndexOf(uid)) continue;
      if ((await modalities(d.Series)).every((m) => m && m !== 'SR')) {
        studyUid = uid;
        break;
      }
    }
    await page.getByTestId('pacs-q-patient-id').fill('');
    await page.getByTestId('pacs-search').click();
    const row = page.locator(`[data-testid="pacs-study"][data-study-uid="${studyUid}"]`);
    await row.waitFor();
    await row.getByTestId('pacs-choose-study').check();
    await page.getByTestId('pacs-retrieve').click();
    await page.getByTestId('pacs-report').waitFor({ timeout: 120_000 });
    await page.getByTestId('pacs-report').waitFor();
    const failures = (await page.getByTestId('pacs-failures').count()) ? await page.getByTestId('pacs-failures').textContent() : '';
    expect(failures).toBe('');
    await expect.poll(() => page.getByTestId('pacs-report').textContent()).toMatch(/[1-9]\d* imported/);
    expect(await page.getByTestId('pacs-report').textContent()).toContain('0 failed');
    await screenshot(page, '34-pacs-c-move');
  });

  it('logged no errors in the page', () => {
    expect(consoleErrors).toEqual([]);
  });
});
