import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeSuggest } from '../../../core/active/suggest-run';
import { createTrainFixture, type TrainFixture } from '../../helpers/train-fixture';

// The trained paths (typiclust/auto on a version's embeddings) run in test/unit/train/training-run.test.ts's fixture.
describe('executeSuggest: before any trained version, and on stored predictions', () => {
  let fixture: TrainFixture;
  beforeAll(async () => {
    fixture = await createTrainFixture();
  });
  afterAll(() => fixture?.dispose());

  it('returns a random first batch and says why', () => {
    const { ws } = fixture;
    const task = ws.tasks.create({ name: 'cold', kind: 'multiclass', classes: ['a', 'b'] });
    const outcome = executeSuggest(ws, { taskId: task.id, strategy: 'auto', count: 4, seed: 2 });
    expect(outcome.strategy).toBe('auto');
    expect(outcome.suggested).toHaveLength(4);
    expect(new Set(outcome.suggested.map((s) => s.caseId)).size).toBe(4);
    for (const s of outcome.suggested) expect(s.reason).toMatch(/^auto, no trained version yet: random draw \(seed 2\)/);
    expect(ws.suggestions.list(task.id).map((s) => s.strategy)).toEqual(['auto', 'auto', 'auto', 'auto']);
    const random = executeSuggest(ws, { taskId: task.id, strategy: 'random', count: 4, seed: 2 });
    expect(random.suggested.map((s) => s.caseId)).toEqual(outcome.suggested.map((s) => s.caseId));
  });

  it('mixed before any version is the same random batch, and says why', () => {
    const { ws } = fixture;
    const task = ws.tasks.create({ name: 'cold-mixed', kind: 'multiclass', classes: ['a', 'b'] });
    const outcome = executeSuggest(ws, { taskId: task.id, strategy: 'mixed', count: 4, seed: 2 });
    expect(outcome.strategy).toBe('mixed');
    for (const s of outcome.suggested) expect(s.reason).toMatch(/^mixed, no model predictions yet: random draw \(seed 2\)/);
    const random = executeSuggest(ws, { taskId: task.id, strategy: 'random', count: 4, seed: 2 });
    expect(random.suggested.map((s) => s.caseId)).toEqual(outcome.suggested.map((s) => s.caseId));
  });

  it('typiclust still needs a trained version (its embeddings)', () => {
    const { ws } = fixture;
    const task = ws.tasks.create({ name: 'cold2', kind: 'multiclass', classes: ['a', 'b'] });
    expect(() => executeSuggest(ws, { taskId: task.id, strategy: 'typiclust', count: 3 })).toThrow(/train one first/);
  });

  it("mixed ranks a graded task's uncertain picks by grade variance, a multiclass task's by margin", () => {
    const { ws } = fixture;
    const reasonsFor = (kind: 'ordinal' | 'multiclass') => {
      const task = ws.tasks.create({ name: `spread-${kind}`, kind, classes: ['g0', 'g1', 'g2'] });
      const version = ws.versions.add({ taskId: task.id, method: 'linear', weights: new Uint8Array([1]), status: 'active' });
      const ids = ws.worklistIds('unlabeled', task.id);
      // Torn between the outer grades, between neighbours, and sure.
      const rows = [[0.5, 0, 0.5], [0.5, 0.5, 0], [0.9, 0.05, 0.05]];
      ws.predictions.put(version.id, ids.map((caseId, i) => ({ caseId, probabilities: rows[i % 3] })));
      return executeSuggest(ws, { taskId: task.id, strategy: 'mixed', count: ids.length, seed: 3 }).suggested.map((s) => s.reason);
    };
    const graded = reasonsFor('ordinal').filter((r) => !r.startsWith('random share'));
    expect(graded.length).toBeGreaterThan(0);
    expect(graded[0]).toMatch(/^the predicted grade is uncertain by ±1\.00 grades \(grade variance 1\.00, /);
    expect(graded.every((r) => /uncertain by ±/.test(r))).toBe(true);
    const flat = reasonsFor('multiclass').filter((r) => !r.startsWith('random share'));
    expect(flat.every((r) => /^margin /.test(r))).toBe(true);
  });
});
