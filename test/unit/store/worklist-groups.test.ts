import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Workspace } from '../../../core/store';
import { errorCode, tempDir, tinyDicomSet, writeDicomFiles } from './helpers/fixtures';

describe('grouped worklist sort', () => {
  it('puts the groups holding the best-ranked suggestions first, keeping each series in stack order', async () => {
    const root = tempDir();
    // 5 series of 4 slices, two series a study, one study a patient: PID0000 (series 1, 2), PID0001 (3, 4), PID0002 (5).
    const files = tinyDicomSet(20, { perSeries: 4 });
    writeDicomFiles(path.join(root, 'in'), files);
    const ws = Workspace.create(path.join(root, 'ws'));
    const ids = (await ws.import([path.join(root, 'in')])).caseIds;
    const task = ws.tasks.create({ name: 'finding', kind: 'multiclass', classes: ['a', 'b'] });
    const series = (uid: string) => files.findIndex((f) => f.seriesInstanceUid === uid) / 4 + 1;
    const order = (sort?: 'imported' | 'rank') =>
      ws.worklistGroups({ taskId: task.id, sort }).patients.map((p) => `${p.patientId}: ${p.studies.flatMap((s) => s.series.map((se) => series(se.seriesUid))).join(',')}`);

    expect(order()).toEqual(['PID0000: 1,2', 'PID0001: 3,4', 'PID0002: 5']);
    // Rank 1 in series 5, rank 2 in series 2, rank 3 in series 1: PID0002 first, then PID0000 with series 2 before 1.
    ws.suggestions.replace({ taskId: task.id, strategy: 'test', items: [{ caseId: ids[17], score: 3 }, { caseId: ids[5], score: 2 }, { caseId: ids[1], score: 1 }] });
    expect(order('rank')).toEqual(['PID0002: 5', 'PID0000: 2,1', 'PID0001: 3,4']);
    expect(order('imported')).toEqual(['PID0000: 1,2', 'PID0001: 3,4', 'PID0002: 5']);
    const second = ws.worklistGroups({ taskId: task.id, sort: 'rank' }).patients[1].studies[0].series[0];
    expect(second.caseIds).toEqual(ids.slice(4, 8));
    expect(errorCode(() => ws.worklistGroups({ taskId: task.id, sort: 'name' as never }))).toBe('invalid');
    ws.close();
  });
});
