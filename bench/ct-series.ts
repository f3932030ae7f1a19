/**
 * A synthetic 100-slice CT series for the UI benchmark, made from one real shared CT file (CT-MONO2-16-ankle,
 * 512²): every slice keeps its pixels but gets new Study/Series/SOP Instance UIDs, an instance number and a
 * position 2.5 mm further along the axial normal, written with dcmjs (explicit VR little endian).
 */
import fs from 'node:fs';
import path from 'node:path';
import dcmjs from 'dcmjs';
import { uidFromText } from '../core/store';

export function writeCtSeries(source: string, dir: string, slices: number): string[] {
  const bytes = fs.readFileSync(source);
  const study = uidFromText(`bench-ct-study:${slices}`);
  const series = uidFromText(`bench-ct-series:${slices}`);
  fs.mkdirSync(dir, { recursive: true });
  return Array.from({ length: slices }, (_, i) => {
    const message = dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    const sop = uidFromText(`bench-ct-slice:${slices}:${i}`);
    // Group lengths would be stale once values change: leave them out (they are optional).
    const dict = Object.fromEntries(Object.entries(message.dict).filter(([tag]) => !tag.endsWith('0000')));
    const set = (tag: string, vr: string, value: unknown[]) => (dict[tag] = { vr, Value: value });
    // The source is old (ACR-NEMA dates such as 1993.04.30), which dcmjs refuses to write: DICOM form instead.
    for (const element of Object.values(dict) as { vr: string; Value?: unknown[] }[]) {
      if ((element.vr === 'DA' || element.vr === 'TM') && element.Value) element.Value = element.Value.map((v) => String(v).replace(/[.:]/g, ''));
    }
    set('0020000D', 'UI', [study]);
    set('0020000E', 'UI', [series]);
    set('00080018', 'UI', [sop]);
    set('00200011', 'IS', [2]);
    set('0008103E', 'LO', [`Bench ${slices}-slice axial`]);
    set('00200013', 'IS', [i + 1]);
    set('00200037', 'DS', [1, 0, 0, 0, 1, 0]);
    // Head first: instance 1 highest, so position order and instance order agree.
    set('00200032', 'DS', [-125, -125, -2.5 * i]);
    set('00201041', 'DS', [-2.5 * i]);
    const meta = { ...message.meta };
    meta['00020003'] = { vr: 'UI', Value: [sop] };
    meta['00020010'] = { vr: 'UI', Value: ['1.2.840.10008.1.2.1'] };
    const out = new dcmjs.data.DicomDict(meta);
    out.dict = dict;
    const file = path.join(dir, `slice-${String(i + 1).padStart(3, '0')}.dcm`);
    fs.writeFileSync(file, Buffer.from(out.write()));
    return file;
  });
}
