import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION, Workspace, lateralityFromName } from '../../../core/store';
import { databaseOf } from '../../../core/store/workspace';
import { FUNDUS_DIR } from '../../helpers/paths';
import { tempDir } from './helpers/fixtures';

describe('laterality from a photo file name', () => {
  it('reads left/right and OD/OS/OU only when stated as a word', () => {
    expect(lateralityFromName('patient12_left.jpg')).toBe('left');
    expect(lateralityFromName('P12-RIGHT-macula.png')).toBe('right');
    expect(lateralityFromName('scan OD 2.tif')).toBe('right');
    expect(lateralityFromName('2021_03_OS.jpeg')).toBe('left');
    expect(lateralityFromName('montage_OU.jpg')).toBe('both');
  });

  it('is unknown when unclear: a bare letter, a word inside another, or both sides named', () => {
    for (const name of ['21_training.tif', 'retina_L.jpg', 'img_r.png', 'leftover.jpg', 'dos_photos.png', 'left_right.jpg', 'OD_OU.jpg', 'retina.jpg']) {
      expect(lateralityFromName(name), name).toBeUndefined();
    }
  });
});

describe('schema v7 migration', () => {
  it('marks photos imported before as colour and reads their side from the name; DICOM facts stay unknown', async () => {
    const root = tempDir();
    const dir = path.join(root, 'ws');
    const src = path.join(root, 'in');
    fs.mkdirSync(src);
    fs.copyFileSync(path.join(FUNDUS_DIR, 'skimage', 'retina.jpg'), path.join(src, 'eye_left.jpg'));
    fs.copyFileSync(path.join(FUNDUS_DIR, 'DRIVE', 'training', 'images', '21_training.tif'), path.join(src, '21_training.tif'));
    const old = Workspace.create(dir, { migrations: MIGRATIONS.slice(0, 7) });
    const ids = (await old.import([src])).caseIds;
    expect(ids).toHaveLength(2);
    expect(databaseOf(old).prepare(`SELECT 1 FROM pragma_table_info('cases') WHERE name = 'colour'`).get()).toBeUndefined();
    old.close();

    const ws = Workspace.open(dir);
    expect(ws.info().schemaVersion).toBe(SCHEMA_VERSION);
    const rows = databaseOf(ws).prepare('SELECT display_name AS name, colour, laterality FROM cases ORDER BY display_name').all();
    expect(rows).toEqual([
      { name: '21_training.tif', colour: 1, laterality: null },
      { name: 'eye_left.jpg', colour: 1, laterality: 'left' },
    ]);
    const task = ws.tasks.create({ name: 'Left eyes', kind: 'multiclass', classes: ['a', 'b'], scope: { laterality: ['left'] } });
    expect(ws.listCases({ taskId: task.id }).items.map((c) => c.displayName)).toEqual(['eye_left.jpg']);
    ws.close();
  });
});
