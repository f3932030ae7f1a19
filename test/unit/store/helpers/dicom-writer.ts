/**
 * A tiny DICOM Part 10 writer (explicit VR little endian, MONOCHROME2, 8 or 16 bits) for tests and
 * benchmarks: enough attributes for the importer's hierarchy, nothing more.
 */

export interface TinyDicom {
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  patientId?: string;
  patientName?: string;
  patientBirthDate?: string;
  studyDate?: string;
  accessionNumber?: string;
  institutionName?: string;
  modality?: string;
  instanceNumber?: number;
  rows?: number;
  columns?: number;
  /** Omit Pixel Data (e.g. to stand for a structured report). */
  noPixelData?: boolean;
  /** Pixel values are derived from this seed, so different seeds give different bytes. */
  seed?: number;
}

const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const LONG_VRS = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN']);

function element(group: number, elem: number, vr: string, value: Uint8Array): Uint8Array {
  const padded = value.length % 2 === 0 ? value : concat([value, new Uint8Array([vr === 'UI' || vr === 'OB' ? 0 : 0x20])]);
  const long = LONG_VRS.has(vr);
  const head = new Uint8Array(long ? 12 : 8);
  const dv = new DataView(head.buffer);
  dv.setUint16(0, group, true);
  dv.setUint16(2, elem, true);
  head[4] = vr.charCodeAt(0);
  head[5] = vr.charCodeAt(1);
  if (long) dv.setUint32(8, padded.length, true);
  else dv.setUint16(6, padded.length, true);
  return concat([head, padded]);
}

const text = (s: string) => new TextEncoder().encode(s);
function us(n: number): Uint8Array {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, n, true);
  return b;
}
function ul(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function writeTinyDicom(d: TinyDicom): Uint8Array {
  const rows = d.rows ?? 8;
  const columns = d.columns ?? 8;
  const metaBody = concat([
    element(0x0002, 0x0001, 'OB', new Uint8Array([0, 1])),
    element(0x0002, 0x0002, 'UI', text(SECONDARY_CAPTURE)),
    element(0x0002, 0x0003, 'UI', text(d.sopInstanceUid)),
    element(0x0002, 0x0010, 'UI', text(EXPLICIT_LE)),
    element(0x0002, 0x0012, 'UI', text('1.2.826.0.1.3680043.10.1')),
  ]);
  const meta = concat([element(0x0002, 0x0000, 'UL', ul(metaBody.length)), metaBody]);
  const ds: Uint8Array[] = [
    element(0x0008, 0x0016, 'UI', text(SECONDARY_CAPTURE)),
    element(0x0008, 0x0018, 'UI', text(d.sopInstanceUid)),
  ];
  if (d.studyDate) ds.push(element(0x0008, 0x0020, 'DA', text(d.studyDate)));
  if (d.accessionNumber) ds.push(element(0x0008, 0x0050, 'SH', text(d.accessionNumber)));
  ds.push(element(0x0008, 0x0060, 'CS', text(d.modality ?? 'OT')));
  if (d.institutionName) ds.push(element(0x0008, 0x0080, 'LO', text(d.institutionName)));
  if (d.patientName) ds.push(element(0x0010, 0x0010, 'PN', text(d.patientName)));
  if (d.patientId) ds.push(element(0x0010, 0x0020, 'LO', text(d.patientId)));
  if (d.patientBirthDate) ds.push(element(0x0010, 0x0030, 'DA', text(d.patientBirthDate)));
  ds.push(element(0x0020, 0x000d, 'UI', text(d.studyInstanceUid)));
  ds.push(element(0x0020, 0x000e, 'UI', text(d.seriesInstanceUid)));
  ds.push(element(0x0020, 0x0013, 'IS', text(String(d.instanceNumber ?? 1))));
  if (!d.noPixelData) {
    ds.push(
      element(0x0028, 0x0002, 'US', us(1)),
      element(0x0028, 0x0004, 'CS', text('MONOCHROME2')),
      element(0x0028, 0x0010, 'US', us(rows)),
      element(0x0028, 0x0011, 'US', us(columns)),
      element(0x0028, 0x0100, 'US', us(16)),
      element(0x0028, 0x0101, 'US', us(12)),
      element(0x0028, 0x0102, 'US', us(11)),
      element(0x0028, 0x0103, 'US', us(0)),
    );
    const pixels = new Uint16Array(rows * columns);
    let x = (d.seed ?? 1) >>> 0 || 1;
    for (let i = 0; i < pixels.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      pixels[i] = (x >>> 16) & 0x0fff;
    }
    ds.push(element(0x7fe0, 0x0010, 'OW', new Uint8Array(pixels.buffer)));
  }
  return concat([new Uint8Array(128), text('DICM'), meta, ...ds]);
}

/** A deterministic set of `count` instances: `perSeries` per series, `perStudy` series per study. */
export function tinyDicomSet(count: number, opts: { perSeries?: number; seriesPerStudy?: number; root?: string } = {}): TinyDicom[] {
  const perSeries = opts.perSeries ?? 20;
  const seriesPerStudy = opts.seriesPerStudy ?? 2;
  const root = opts.root ?? '1.2.826.0.1.3680043.10.999';
  const out: TinyDicom[] = [];
  for (let i = 0; i < count; i++) {
    const series = Math.floor(i / perSeries);
    const study = Math.floor(series / seriesPerStudy);
    out.push({
      sopInstanceUid: `${root}.3.${i + 1}`,
      seriesInstanceUid: `${root}.2.${series + 1}`,
      studyInstanceUid: `${root}.1.${study + 1}`,
      patientId: `PID${String(study % 97).padStart(4, '0')}`,
      patientName: `Doe^Patient${study % 97}`,
      patientBirthDate: '19700101',
      studyDate: `2024${String((study % 12) + 1).padStart(2, '0')}15`,
      accessionNumber: `ACC${study + 1}`,
      institutionName: 'General Hospital',
      modality: study % 2 ? 'CT' : 'MR',
      instanceNumber: (i % perSeries) + 1,
      seed: i + 1,
    });
  }
  return out;
}
