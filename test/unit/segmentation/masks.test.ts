import { spawnSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { readDicomSeg, segToLabelMap, writeDicomSeg } from '../../../core/segmentation/dicom-seg';
import { readBinaryMask, readIndexedMask, readPerClassMasks, writeIndexedMaskPng, writePerClassMaskPngs, type LabelMap } from '../../../core/segmentation/png-mask';
import { DICOM_DIR, FUNDUS_DIR, TEST_OUTPUT_DIR } from '../../helpers/paths';

const outDir = path.join(TEST_OUTPUT_DIR, 'segmentation', 'masks');
const CT = path.join(DICOM_DIR, 'pydicom_debian', 'CT_small.dcm'); // 128×128 CT with a frame of reference

/** Three classes on 128×128: a rectangle (1), a disc (2), background. */
function sampleMask(): LabelMap {
  const w = 128;
  const labels = new Uint8Array(w * w);
  for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) {
    if (y >= 10 && y < 50 && x >= 20 && x < 90) labels[y * w + x] = 1;
    if ((x - 80) ** 2 + (y - 90) ** 2 < 400) labels[y * w + x] = 2;
  }
  return { width: w, height: w, labels };
}

beforeAll(async () => {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
});

describe('PNG masks', () => {
  it('round-trips an indexed PNG and one PNG per class', async () => {
    const mask = sampleMask();
    const indexed = path.join(outDir, 'indexed.png');
    await writeIndexedMaskPng(mask, indexed);
    expect((await readIndexedMask(indexed, 3)).labels).toEqual(mask.labels);
    const files = await writePerClassMaskPngs(mask, 3, outDir, 'case');
    expect(files.map((f) => path.basename(f))).toEqual(['case-class1.png', 'case-class2.png']);
    const back = await readPerClassMasks(files);
    expect(back.labels).toEqual(mask.labels);
    expect((await sharp(files[0]).metadata()).channels).toBe(1);
  });

  it('refuses a 0/255 file read as indexed, and overlapping class files, naming the files', async () => {
    const mask = sampleMask();
    const [a, b] = await writePerClassMaskPngs(mask, 3, outDir, 'bad');
    await expect(readIndexedMask(a, 3)).rejects.toThrow(`${a}: pixel (20, 10) has value 255`);
    await expect(readPerClassMasks([a, a])).rejects.toThrow(`${a}: pixel (20, 10) is also marked in ${a}`);
    const small = path.join(outDir, 'small.png');
    await writeIndexedMaskPng({ width: 4, height: 4, labels: new Uint8Array(16) }, small);
    await expect(readPerClassMasks([b, small])).rejects.toThrow(`${small}: is 4×4`);
    const notImage = path.join(outDir, 'not-an-image.png');
    await writeFile(notImage, 'hello');
    await expect(readBinaryMask(notImage)).rejects.toThrow(`${notImage}: cannot read as an image`);
  });

  it('reads DRIVE’s GIF masks', async () => {
    const fov = await readBinaryMask(path.join(FUNDUS_DIR, 'DRIVE', 'training', 'mask', '21_training_mask.gif'));
    expect([fov.width, fov.height]).toEqual([565, 584]);
    const inside = fov.labels.reduce((s, v) => s + v, 0) / fov.labels.length;
    expect(inside).toBeGreaterThan(0.6);
    expect(inside).toBeLessThan(0.8);
  });
});

describe('DICOM-SEG', () => {
  it('reads the dcmqi liver SEG: one segment over three CT slices', async () => {
    const seg = await readDicomSeg(path.join(DICOM_DIR, 'pydicom_data', 'liver.dcm'));
    expect([seg.rows, seg.columns]).toEqual([512, 512]);
    expect(seg.segments).toEqual([{ number: 1, label: 'Liver' }]);
    expect(seg.frames).toHaveLength(3);
    for (const f of seg.frames) {
      expect(f.segment).toBe(1);
      expect(f.referencedSopInstanceUid).toMatch(/^1\.2\.392\.200103\.20080913\.113635\.2\.2009\.6\.22\.21\.43\.10\.2343[123]\.1$/);
      const area = f.mask.reduce((s, v) => s + v, 0);
      expect(area).toBeGreaterThan(30000);
      expect(area).toBeLessThan(40000);
    }
  });

  it('writes a binary SEG referencing its source that round-trips, dcmdump reads and dciodvfy accepts', async () => {
    const mask = sampleMask();
    const file = path.join(outDir, 'seg.dcm');
    await writeDicomSeg(mask, CT, file, { segmentLabels: ['rectangle', 'disc'] });
    const seg = await readDicomSeg(file);
    expect(seg.segments.map((s) => s.label)).toEqual(['rectangle', 'disc']);
    const dump = spawnSync('dcmdump', [CT], { encoding: 'utf8' }).stdout;
    const sourceUid = /\(0008,0018\) UI \[([^\]]+)\]/.exec(dump)![1];
    expect(seg.frames.map((f) => f.referencedSopInstanceUid)).toEqual([sourceUid, sourceUid]);
    expect(segToLabelMap(seg, sourceUid).labels).toEqual(mask.labels);

    const segDump = spawnSync('dcmdump', [file], { encoding: 'utf8' });
    expect(segDump.status, segDump.stderr).toBe(0);
    expect(segDump.stdout).toContain('=SegmentationStorage');
    expect(segDump.stdout).toContain(sourceUid);
    const verify = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
    const report = `${verify.stdout}${verify.stderr}`;
    expect(report).toContain('Segmentation');
    expect(report.split('\n').filter((l) => /^Error/.test(l))).toEqual([]);
  });

  it('refuses a mask of another size than the source and a file that is not a SEG, naming the file', async () => {
    await expect(writeDicomSeg({ width: 4, height: 4, labels: new Uint8Array(16) }, CT, path.join(outDir, 'x.dcm'), { segmentLabels: ['a'] })).rejects.toThrow(
      `${CT}: is 128×128, the mask 4×4`,
    );
    await expect(readDicomSeg(CT)).rejects.toThrow(`${CT}: SOP class 1.2.840.10008.5.1.4.1.1.2 is not Segmentation Storage`);
    const junk = path.join(outDir, 'junk.dcm');
    await writeFile(junk, 'not dicom');
    await expect(readDicomSeg(junk)).rejects.toThrow(`${junk}: not a readable DICOM file`);
  });
});
