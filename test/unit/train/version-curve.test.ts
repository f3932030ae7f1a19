import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Workspace } from '../../../core/store';
import { powerLaw } from '../../../core/train/learning-curve';
import { describeForecast, versionCurve } from '../../../core/train/version-curve';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function workspace(): { ws: Workspace; taskId: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-curve-'));
  dirs.push(dir);
  const ws = Workspace.create(path.join(dir, 'ws'));
  return { ws, taskId: ws.tasks.create({ name: 'dr', kind: 'ordinal', classes: ['0', '1', '2'] }).id };
}

const addVersion = (ws: Workspace, taskId: number, labels: number, value: number | null, name = 'kappaQuadratic') =>
  ws.versions.add({
    taskId,
    method: 'dvpt',
    weights: Buffer.from(`weights ${labels} ${value}`),
    metrics: { selection: { name, value } },
    labelSnapshot: { labelCount: labels, lastLabelEventId: labels, byClass: {} },
    status: 'candidate',
  });

describe('the learning-curve forecast of a task (when to stop labelling)', () => {
  it('waits for three versions on two label counts, and says so', () => {
    const { ws, taskId } = workspace();
    addVersion(ws, taskId, 50, 0.4);
    addVersion(ws, taskId, 50, 0.42);
    addVersion(ws, taskId, 80, null); // no validation metric: not a point
    const curve = versionCurve(ws, taskId);
    expect(curve.forecast).toBeNull();
    expect(curve.reason).toBe('a forecast needs 3 versions trained on at least 2 label counts (2 versions, 1 label count so far)');
    expect(describeForecast(curve)).toEqual([`learning curve: ${curve.reason}`]);
  });

  it('forecasts the next 50, 100 and 500 labels from the versions, close to the curve they follow', () => {
    const { ws, taskId } = workspace();
    const truth = { a: 0.8, b: 2, c: 0.5 };
    const noise = [0.004, -0.003, 0.002, -0.004, 0.003];
    [40, 80, 120, 200, 300].forEach((n, i) => addVersion(ws, taskId, n, powerLaw(truth, n) + noise[i]));
    addVersion(ws, taskId, 320, 0.1, 'accuracy'); // another metric (older version with no validation AUC): left out
    const curve = versionCurve(ws, taskId);
    expect(curve.metric).toBe('accuracy'); // the newest version's metric...
    expect(curve.forecast).toBeNull(); // ...has one point only
    ws.versions.archive(ws.versions.list(taskId).find((v) => v.labelSnapshot.labelCount === 320)!.id);
    addVersion(ws, taskId, 300, powerLaw(truth, 300));
    const kappa = versionCurve(ws, taskId);
    expect(kappa.metric).toBe('kappaQuadratic');
    expect(kappa.points).toHaveLength(6);
    const f = kappa.forecast!;
    expect(f.labels).toBe(300);
    expect(f.forecasts.map((g) => g.extra)).toEqual([50, 100, 500]);
    for (const g of f.forecasts) {
      const expected = powerLaw(truth, 300 + g.extra) - powerLaw(truth, 300);
      expect(Math.abs(g.gain - expected)).toBeLessThan(0.02);
      expect(g.low).toBeLessThanOrEqual(g.gain);
      expect(g.high).toBeGreaterThanOrEqual(g.gain);
    }
    // More labels, more gain (never less: b ≥ 0).
    expect(f.forecasts[2].gain).toBeGreaterThan(f.forecasts[0].gain);
    const lines = describeForecast(kappa);
    expect(lines[0]).toMatch(/^learning curve of kappaQuadratic over 6 versions \(300 labels now/);
    expect(lines[1]).toMatch(/^next 50 labels: \+0\.0\d\d \(90 % interval [+−]0\.\d{3} to \+0\.\d{3}\), expected 0\.\d{3}$/);
  });
});
