import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Workspace } from '../../core/store';
import { openApp, openWorkspace, screenshot, type OpenApp } from '../helpers/browser-mode';
import { FUNDUS_DIR, PARITY_DIR } from '../helpers/paths';

// Issue 18 end to end: two readers label the same 10 fundus photographs blind, the agreement appears, a
// reviewer settles the disagreements, and the next training run trains on the consensus.
const IMAGES = ['21', '22', '23', '24', '25', '26', '27', '28', '29', '30'].map((n) => path.join(FUNDUS_DIR, 'DRIVE', 'training', 'images', `${n}_training.tif`));
// 1 = 'no', 2 = 'yes'. They disagree on cases 3, 6 and 9 (index 2, 5, 8); the reviewer says 'yes' there.
const ANN = ['1', '2', '1', '1', '2', '2', '1', '2', '1', '1'];
const BOB = ['1', '2', '2', '1', '2', '1', '1', '2', '2', '1'];
const DISAGREE = [2, 5, 8];

let ui: OpenApp;
let tmp: string;
let wsDir: string;
let caseIds: number[];
const page = () => ui.page;
const selectedCaseId = () => page().locator('[data-testid="case-row"][aria-selected="true"]').getAttribute('data-case-id');

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-e2e-readers-'));
  wsDir = path.join(tmp, 'ws');
  // Images and the task come in through the services (import and task creation have their own tests).
  const ws = Workspace.create(wsDir, { name: 'Double reading' });
  caseIds = (await ws.import(IMAGES)).caseIds;
  ws.tasks.create({ name: 'referable', kind: 'multiclass', classes: ['no', 'yes'] });
  ws.close();
  ui = await openApp();
  await openWorkspace(page(), wsDir);
});

afterAll(async () => {
  await ui?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function switchReader(name: string, pin?: string): Promise<void> {
  await page().getByTestId('reader-button').click();
  await page().getByTestId(`reader-choose-${name}`).click();
  if (pin) {
    await page().getByTestId('reader-pin').fill(pin);
    await page().getByTestId('reader-pin-ok').click();
  }
  await expect.poll(() => page().getByTestId('reader-current').textContent()).toBe(name);
}

/** Reads the ten cases in worklist order with the class hotkeys, checking each is blind before the read. */
async function readAll(keys: string[], expectBlind: boolean): Promise<void> {
  await page().getByTestId('tab-reading').click();
  await page().getByTestId('filter-all').click();
  await page().locator('[data-testid="case-row"]').first().click();
  for (let i = 0; i < keys.length; i++) {
    await expect.poll(selectedCaseId).toBe(String(caseIds[i]));
    await expect.poll(() => page().getByTestId('reads-count').textContent()).toMatch(/of 2 reads/);
    if (expectBlind) {
      // The first reader's label is hidden: no label on the bar, the reads panel says so.
      await page().getByTestId('reads-blind').waitFor();
      expect(await page().getByTestId('current-label').textContent()).toBe('unlabeled');
      expect(await page().getByTestId('reads-other').count()).toBe(0);
      if (i === 0) await screenshot(page(), '60-readers-blind');
    }
    await page().keyboard.press(keys[i]);
    await expect.poll(() => page().getByTestId('reads-mine').textContent()).toBe(keys[i] === '1' ? 'no' : 'yes');
    if (i < keys.length - 1) await page().keyboard.press('Enter');
  }
}

/**
 * Reads like a fast reader types: the class key and Enter back to back, before the case's record (or the
 * previous read) has come back. Each key must still go to the case that was on screen.
 */
async function readAhead(keys: string[]): Promise<void> {
  await page().getByTestId('tab-reading').click();
  await page().getByTestId('filter-all').click();
  await page().locator('[data-testid="case-row"]').first().click();
  for (let i = 0; i < keys.length; i++) {
    await expect.poll(selectedCaseId).toBe(String(caseIds[i]));
    await page().keyboard.press(keys[i]);
    if (i < keys.length - 1) await page().keyboard.press('Enter');
  }
  await expect.poll(() => page().getByTestId('reads-mine').textContent()).toBe(keys.at(-1) === '1' ? 'no' : 'yes');
}

/** The first reads `reader` has stored, by case, as hotkeys ('1' = no, '2' = yes). */
function storedReads(reader: string): string[] {
  const ws = Workspace.open(wsDir);
  try {
    const task = ws.tasks.byName('referable')!;
    const mine = ws.reads.allReads(task.id).filter((r) => r.reader === reader && r.kind === 'first');
    return caseIds.map((id) => {
      const read = mine.find((r) => r.caseId === id);
      return read ? (read.valueText === 'no' ? '1' : '2') : '-';
    });
  } finally {
    ws.close();
  }
}

describe('several readers, one truth', () => {
  it('adds reader profiles from the header and asks each task for two blind reads', async () => {
    await page().getByTestId('reader-button').click();
    await page().getByTestId('reader-add-form').waitFor();
    for (const [name, role, pin] of [['ann', 'reader', ''], ['bob', 'reader', '2468'], ['rev', 'reviewer', '']] as const) {
      await page().getByTestId('reader-new-name').fill(name);
      await page().getByTestId('reader-new-role').selectOption(role);
      await page().getByTestId('reader-new-pin').fill(pin);
      await page().getByTestId('reader-add').click();
      await page().getByTestId(`reader-choose-${name}`).waitFor();
    }
    await page().getByTestId('reader-button').click();
    await page().getByTestId('tab-settings').click();
    await page().getByTestId('reads-per-case').fill('2');
    await page().getByTestId('reading-settings-save').click();
    await expect.poll(() => page().getByTestId('reading-settings-saved').textContent()).toBe('Read 2× per case, blind');
    await screenshot(page(), '61-readers-settings');
  });

  it('lets the first reader read all ten cases blind, then the second, whose PIN is asked', async () => {
    await switchReader('ann');
    await readAhead(ANN);
    await expect.poll(() => storedReads('ann').join('')).toBe(ANN.join(''));
    await page().getByTestId('reader-button').click();
    await page().getByTestId('reader-choose-bob').click();
    await page().getByTestId('reader-pin').fill('1111');
    await page().getByTestId('reader-pin-ok').click();
    await expect.poll(() => page().getByTestId('reader-error').textContent()).toMatch(/Wrong PIN/);
    await page().getByTestId('reader-pin').fill('2468');
    await page().getByTestId('reader-pin-ok').click();
    await expect.poll(() => page().getByTestId('reader-current').textContent()).toBe('bob');
    await page().getByTestId('filter-awaiting-my-read').click();
    await expect.poll(() => page().getByTestId('case-count').textContent()).toBe('10 cases');
    await readAll(BOB, true);
    expect(storedReads('bob')).toEqual(BOB);
    // After his read Bob sees Ann's; the disagreements wait in the reviewer queue.
    expect(await page().getByTestId('reads-other').textContent()).toMatch(/ann: no/);
    await page().getByTestId('filter-awaiting-my-read').click();
    await expect.poll(() => page().getByTestId('case-count').textContent()).toBe('0 cases');
  });

  it('shows the agreement of the two readers on the training screen', async () => {
    await page().getByTestId('tab-training').click();
    const row = page().locator('[data-testid="agreement-pairs"] [data-testid="agreement-row"]');
    await row.waitFor();
    // 7 of 10 agree; Ann said 'yes' 4 times, Bob 5: chance agreement 0.5, Cohen's kappa (0.7 − 0.5) / (1 − 0.5) = 0.40.
    expect(await row.textContent()).toMatch(/ann – bob\s*10\s*0\.40 \[.*\]\s*70% \[/);
    expect(await page().getByTestId('agreement-summary').textContent()).toMatch(/agreed 7.*disagreement 3/);
    await screenshot(page(), '62-readers-agreement');
  });

  it('lets the reviewer settle the three disagreements from the reviewer queue, by button or class hotkey', async () => {
    await switchReader('rev');
    await page().getByTestId('tab-reading').click();
    await page().getByTestId('filter-readers-disagree').click();
    await expect.poll(() => page().getByTestId('case-count').textContent()).toBe('3 cases');
    for (const i of DISAGREE) {
      await page().locator(`[data-testid="case-row"][data-case-id="${caseIds[i]}"]`).click();
      await expect.poll(() => page().getByTestId('reads-state').textContent()).toBe('disagreement');
      expect(await page().getByTestId('reads-other').count()).toBe(2);
      // On a task read twice the model's suggestion is no read: the button is off and says why.
      expect(await page().getByTestId('accept-suggestion').isDisabled()).toBe(true);
      expect(await page().getByTestId('accept-suggestion').getAttribute('title')).toMatch(/read 2 times per case/);
      if (i === DISAGREE[0]) {
        await screenshot(page(), '63-readers-adjudicate');
        await page().getByTestId('adjudicate-yes').click();
      } else {
        // The class hotkey ('2' = yes) adjudicates, and the label bar confirms it.
        await page().keyboard.press('2');
        await expect.poll(() => page().getByTestId('label-notice').textContent()).toBe('Adjudicated: yes (reviewer rev)');
        if (i === DISAGREE[1]) await screenshot(page(), '65-readers-adjudicate-hotkey');
      }
      await expect.poll(() => page().getByTestId('reads-state').textContent()).toBe('adjudicated');
      await expect.poll(() => page().getByTestId('current-label').textContent()).toBe('yes');
    }
    await page().getByTestId('filter-readers-disagree').click();
    await expect.poll(() => page().getByTestId('case-count').textContent()).toBe('0 cases');
  });

  it('trains the next version on the consensus: every case, the adjudicated class where readers disagreed', async () => {
    await page().getByTestId('tab-training').click();
    await page().getByTestId('backbone-file').fill(path.join(PARITY_DIR, 'backbone-timm.safetensors'));
    await page().getByTestId('backbone-import').click();
    await page().getByTestId('backbone-row').waitFor();
    await page().getByTestId('train-epochs').fill('2');
    await page().getByTestId('train-batch').fill('4');
    await page().getByTestId('train-last-layers').fill('1');
    await page().getByTestId('train-start').click();
    await page().getByTestId('train-result').waitFor({ timeout: 180_000 });
    await screenshot(page(), '64-readers-trained');

    const consensus = ANN.map((a, i) => (DISAGREE.includes(i) ? 'yes' : a === '1' ? 'no' : 'yes'));
    const ws = Workspace.open(wsDir);
    try {
      const task = ws.tasks.byName('referable')!;
      const labels = ws.labels.currentAll(task.id);
      expect(labels.map((l) => l.value)).toEqual(consensus);
      expect(labels.map((l) => l.source)).toEqual(ANN.map((_, i) => (DISAGREE.includes(i) ? 'adjudicated' : 'consensus')));
      const [version] = ws.versions.list(task.id);
      // The version's label snapshot: what the run trained on, taken after the last adjudication.
      const snapshot = version.labelSnapshot;
      expect(snapshot.labelCount).toBe(10);
      expect(snapshot.lastLabelEventId).toBe(Math.max(...labels.map((l) => l.eventId)));
      expect(snapshot.byClass).toEqual({ no: consensus.filter((c) => c === 'no').length, yes: consensus.filter((c) => c === 'yes').length });
    } finally {
      ws.close();
    }
    expect(ui.consoleErrors).toEqual([]);
  });
});
