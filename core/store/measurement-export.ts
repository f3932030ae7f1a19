/**
 * A task's measurements for label exports: every measurement on a case in the task's scope, with its value
 * recomputed from the file exactly as the viewer shows it (length in mm from Pixel Spacing or Imager Pixel
 * Spacing, else pixels; angle in degrees; ROI mean, sd, min, max in modality units and area), and the same case
 * columns as the label rows, de-identified when the labels are.
 */
import { decodeImageFile, ImagingError, type DecodedImage } from '../imaging';
import { angleDegrees, chooseSpacing, distance, roiStats, type Point, type Spacing } from '../imaging/measure';
import { csvLine } from './csv';
import { exportIdentity, type CaseColumns, type LabelExportOptions } from './export';
import type { Measurement } from './measurements';
import type { Workspace } from './workspace';
import { readDicomTags } from '../imaging/dicom/tags';

export interface MeasurementExportRow extends CaseColumns {
  measurement_id: number;
  frame: number;
  kind: Measurement['kind'];
  /** Length: mm or px; angle: degrees; ROI: the mean. */
  value: number | null;
  unit: string;
  /** What lengths and areas were measured with: 'PixelSpacing', 'ImagerPixelSpacing' or 'none (pixels)'. */
  spacing: string;
  mean?: number | null;
  sd?: number | null;
  min?: number | null;
  max?: number | null;
  area?: number;
  area_unit?: string;
  pixels?: number;
  /** Image pixel coordinates [[x, y], …] (0, 0 the top-left corner of the first pixel). */
  points: [number, number][];
  author: string;
  created_at: string;
  /** Why a value is missing (a colour image has no ROI statistics; a file that cannot be read is named). */
  note?: string;
}

const CSV_COLUMNS_IDENTIFIED = ['case_id', 'study_instance_uid', 'series_instance_uid', 'sop_instance_uid', 'file', 'patient_id', 'patient_name', 'study_date', 'modality'] as const;
const CSV_COLUMNS_DEID = ['case_id', 'study_instance_uid', 'series_instance_uid', 'sop_instance_uid', 'patient_pseudonym', 'modality'] as const;
const CSV_MEASUREMENT_COLUMNS = [
  'measurement_id', 'frame', 'kind', 'value', 'unit', 'spacing', 'mean', 'sd', 'min', 'max', 'area', 'area_unit', 'pixels', 'points',
  'author', 'created_at', 'note',
] as const;

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);
const asPoint = ([x, y]: [number, number]): Point => ({ x, y });

/** What one case's file gives its measurements: the spacing, and the decoded pixels when a ROI needs them. */
interface CaseGeometry {
  spacing?: Spacing;
  image?: DecodedImage;
  problem?: string;
}

async function caseGeometry(ws: Workspace, caseId: number, needPixels: boolean): Promise<CaseGeometry> {
  const c = ws.cases.get(caseId);
  try {
    const tags = c.kind === 'dicom' ? await readDicomTags(c.blobPath, c.sourcePath) : undefined;
    const spacing = chooseSpacing(tags?.pixelSpacing, tags?.imagerPixelSpacing);
    const image = needPixels ? await decodeImageFile(c.blobPath) : undefined;
    return { spacing, image };
  } catch (err) {
    if (err instanceof ImagingError) return { problem: `cannot read ${c.sourcePath}: ${err.message}` };
    throw err;
  }
}

/** The task's measurements with their values, case by case; a file that cannot be read gives a note, never a failed export. */
export async function measurementExportRows(ws: Workspace, opts: Pick<LabelExportOptions, 'taskId' | 'deidentify' | 'deidSecret'>): Promise<MeasurementExportRow[]> {
  const task = ws.tasks.get(opts.taskId);
  const all = ws.measurements.inScope(task.settings.scope);
  const identity = exportIdentity(ws, opts, all.map((m) => m.caseId));
  const rows: MeasurementExportRow[] = [];
  for (const caseId of [...new Set(all.map((m) => m.caseId))]) {
    const ofCase = all.filter((m) => m.caseId === caseId);
    const geometry = await caseGeometry(ws, caseId, ofCase.some((m) => m.kind === 'ellipse' || m.kind === 'rectangle'));
    for (const m of ofCase) rows.push({ ...identity.caseColumns(caseId), ...measuredValues(m, geometry), author: identity.author(m.author) });
  }
  return rows;
}

function measuredValues(m: Measurement, g: CaseGeometry): Omit<MeasurementExportRow, keyof CaseColumns | 'author'> {
  const spacing = g.spacing ? g.spacing.source : 'none (pixels)';
  const base = { measurement_id: m.id, frame: m.frame, kind: m.kind, points: m.points, created_at: m.createdAt, spacing };
  if (g.problem) return { ...base, value: null, unit: '', note: g.problem };
  const [a, b, c] = m.points.map(asPoint);
  if (m.kind === 'length') {
    const d = distance(a, b, g.spacing);
    return { ...base, value: d.value, unit: d.unit };
  }
  if (m.kind === 'angle') return { ...base, value: finite(angleDegrees(a, b, c, g.spacing)), unit: 'degrees' };
  const image = g.image;
  if (!image || image.samplesPerPixel !== 1 || image.photometric === 'PALETTE COLOR') {
    return { ...base, value: null, unit: '', note: 'ROI statistics need a greyscale image' };
  }
  if (m.frame >= image.frames.length) return { ...base, value: null, unit: '', note: `the file has ${image.frames.length} frame(s), not frame ${m.frame + 1}` };
  const s = roiStats(image, m.frame, m.kind, a, b, g.spacing);
  return {
    ...base,
    value: finite(s.mean),
    unit: s.unit,
    mean: finite(s.mean),
    sd: finite(s.stdDev),
    min: finite(s.min),
    max: finite(s.max),
    area: s.area,
    area_unit: s.areaUnit,
    pixels: s.pixels,
  };
}

/** Measurements as CSV: the case's columns (de-identified ones when asked), then one measurement per line. */
export function measurementsCsv(rows: MeasurementExportRow[], deidentify: boolean): string {
  const columns: readonly string[] = [...(deidentify ? CSV_COLUMNS_DEID : CSV_COLUMNS_IDENTIFIED), ...CSV_MEASUREMENT_COLUMNS];
  let out = csvLine([...columns]);
  for (const r of rows) {
    const record = { ...r, points: JSON.stringify(r.points) } as unknown as Record<string, unknown>;
    out += csvLine(columns.map((col) => record[col]));
  }
  return out;
}

/** Measurements grouped per case for JSON exports: the case's columns once, its measurements under it. */
export function measurementsByCase(rows: MeasurementExportRow[]): (CaseColumns & { measurements: object[] })[] {
  const out = new Map<number, CaseColumns & { measurements: object[] }>();
  for (const r of rows) {
    const { case_id, study_instance_uid, series_instance_uid, sop_instance_uid, file, patient_id, patient_name, patient_pseudonym, study_date, modality, split, ...m } = r;
    let group = out.get(case_id);
    if (!group) {
      group = { case_id, study_instance_uid, series_instance_uid, sop_instance_uid, file, patient_id, patient_name, patient_pseudonym, study_date, modality, split, measurements: [] };
      out.set(case_id, group);
    }
    group.measurements.push(m);
  }
  return [...out.values()];
}
