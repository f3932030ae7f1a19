import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeSuggest } from '../../../core/active/suggest-run';
import { createTrainFixture, type TrainFixture } from '../../helpers/train-fixture';

// The trained paths (typiclust/auto on a version's embeddings) run in test/unit/train/training-run.test.ts's fixture.
describe('executeSuggest, auto before any trained version', () => {
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
});
