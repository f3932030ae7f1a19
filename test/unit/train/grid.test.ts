import { describe, expect, it } from 'vitest';
import { chooseTrial, describeGrid, fitsBudget, gridSettings, type GridReport } from '../../../core/train/grid';

describe('the settings grid', () => {
  it("tries the job's own setting first, then learning rate ×⅓ and ×3, each with the opposite class weighting too", () => {
    expect(gridSettings({ lr: 3e-3, classWeighting: 'inverse' }, { probe: false })).toEqual([
      { lr: 3e-3, classWeighting: 'inverse' },
      { lr: 1e-3, classWeighting: 'inverse' },
      { lr: 9e-3, classWeighting: 'inverse' },
      { lr: 3e-3, classWeighting: 'none' },
      { lr: 1e-3, classWeighting: 'none' },
      { lr: 9e-3, classWeighting: 'none' },
    ].map((s) => ({ ...s, lr: expect.closeTo(s.lr, 12) })));
    expect(gridSettings({ lr: 1e-3, classWeighting: 'none' }, { probe: false }).map((s) => s.classWeighting)).toEqual(['none', 'none', 'none', 'inverse', 'inverse', 'inverse']);
    // The probe has no learning rate: only the weighting varies.
    expect(gridSettings({ lr: 1e-3, classWeighting: 'effective' }, { probe: true })).toEqual([
      { lr: 1e-3, classWeighting: 'effective' },
      { lr: 1e-3, classWeighting: 'none' },
    ]);
  });

  it('always runs the first setting, and no further one that would end past the budget', () => {
    expect(fitsBudget([], 1e9, 1)).toBe(true);
    expect(fitsBudget([{ seconds: 100 }, { seconds: 300 }], 400, 700)).toBe(true);
    expect(fitsBudget([{ seconds: 100 }, { seconds: 300 }], 401, 700)).toBe(false);
  });

  it('keeps the best validation score; ties and unscored settings go to the earlier one', () => {
    expect(chooseTrial([{ selection: 0.5 }, { selection: 0.7 }, { selection: 0.6 }])).toBe(1);
    expect(chooseTrial([{ selection: 0.5 }, { selection: 0.5 }])).toBe(0);
    expect(chooseTrial([{ selection: null }, { selection: 0.2 }, { selection: null }])).toBe(1);
    expect(chooseTrial([{ selection: 0.4 }, { selection: null }])).toBe(0);
  });

  it('says what it tried, what it kept and against what', () => {
    const trial = (lr: number, classWeighting: 'none' | 'inverse', selection: number) => ({ lr, classWeighting, selection, bestEpoch: 3, epochsRun: 8, seconds: 10 });
    const report: GridReport = {
      metric: 'kappaQuadratic',
      trials: [trial(1e-3, 'inverse', 0.38), trial(3e-3, 'none', 0.412)],
      skipped: [{ lr: 3e-4, classWeighting: 'none' }],
      chosen: 1,
      budgetSeconds: 900,
      seconds: 84.4,
    };
    expect(describeGrid(report)).toBe('grid: 2 settings tried in 84 s (budget 900 s, 1 skipped for the budget); kept lr 3.0e-3, class weighting none: val kappaQuadratic 0.412 (the job’s own 0.380)');
    expect(describeGrid({ ...report, chosen: 0, skipped: [] })).toBe('grid: 2 settings tried in 84 s (budget 900 s); kept the job’s own settings: val kappaQuadratic 0.380');
  });
});
