import fs from 'node:fs/promises';
import dcmjs from 'dcmjs';
import type { LabelMap } from './png-mask';

/**
 * DICOM Segmentation objects (PS3.3 A.51) for 2-D label maps: reading BINARY and FRACTIONAL SEGs
 * (one frame per segment and slice) and writing a BINARY SEG of one source image, each foreground
 * class a segment, referencing the source instance. dcmjs does the encoding.
 */
const { DicomMessage, DicomDict, DicomMetaDictionary } = dcmjs.data;
const SEGMENTATION_STORAGE = '1.2.840.10008.5.1.4.1.1.66.4';
const EXPLICIT_LITTLE = '1.2.840.10008.1.2.1';

type Dataset = Record<string, unknown>;

export class DicomSegError extends Error {
  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'DicomSegError';
  }
}

export interface SegSegment {
  number: number;
  label: string;
}

export interface SegFrame {
  /** ReferencedSegmentNumber of the frame. */
  segment: number;
  /** The source image the frame was derived from, when the SEG says. */
  referencedSopInstanceUid?: string;
  /** 1 where the segment is present (FRACTIONAL: value above half of its maximum). */
  mask: Uint8Array;
}

export interface DicomSegmentation {
  rows: number;
  columns: number;
  segments: SegSegment[];
  frames: SegFrame[];
}

const asArray = (v: unknown): Dataset[] => (Array.isArray(v) ? (v as Dataset[]) : v ? [v as Dataset] : []);

async function readDataset(file: string): Promise<Dataset> {
  const bytes = await fs.readFile(file);
  try {
    const parsed = DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    return DicomMetaDictionary.naturalizeDataset(parsed.dict);
  } catch (err) {
    throw new DicomSegError(file, `not a readable DICOM file (${(err as Error).message})`);
  }
}

/** Reads a DICOM-SEG file: its segments and one mask per frame. */
export async function readDicomSeg(file: string): Promise<DicomSegmentation> {
  const ds = await readDataset(file);
  if (ds.SOPClassUID !== SEGMENTATION_STORAGE) throw new DicomSegError(file, `SOP class ${String(ds.SOPClassUID)} is not Segmentation Storage`);
  const rows = Number(ds.Rows);
  const columns = Number(ds.Columns);
  const frames = Number(ds.NumberOfFrames ?? 1);
  const bits = Number(ds.BitsAllocated);
  const type = String(ds.SegmentationType ?? 'BINARY');
  const pixels = asArray(ds.PixelData)[0] as unknown as ArrayBuffer | undefined;
  if (!pixels) throw new DicomSegError(file, 'has no pixel data');
  const bytes = new Uint8Array(pixels);
  const n = rows * columns;
  if ((bits === 1 ? Math.ceil((n * frames) / 8) : n * frames) > bytes.length) {
    throw new DicomSegError(file, `pixel data holds ${bytes.length} bytes, fewer than ${frames} frames of ${rows}×${columns} at ${bits} bit(s)`);
  }
  const threshold = type === 'FRACTIONAL' ? Number(ds.MaximumFractionalValue ?? 255) / 2 : 0;
  const perFrame = asArray(ds.PerFrameFunctionalGroupsSequence);
  const shared = asArray(ds.SharedFunctionalGroupsSequence)[0] ?? {};
  const out: SegFrame[] = [];
  for (let f = 0; f < frames; f++) {
    const group = perFrame[f] ?? {};
    const ident = asArray(group.SegmentIdentificationSequence ?? shared.SegmentIdentificationSequence)[0];
    if (!ident) throw new DicomSegError(file, `frame ${f + 1} names no segment`);
    const derivation = asArray(group.DerivationImageSequence)[0];
    const source = asArray(derivation?.SourceImageSequence)[0];
    const mask = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const p = f * n + i; // bit-packed frames are contiguous bits, not byte-aligned
      mask[i] = bits === 1 ? (bytes[p >> 3] >> (p & 7)) & 1 : bytes[p] > threshold ? 1 : 0;
    }
    out.push({ segment: Number(ident.ReferencedSegmentNumber), referencedSopInstanceUid: source?.ReferencedSOPInstanceUID as string | undefined, mask });
  }
  const segments = asArray(ds.SegmentSequence).map((s) => ({ number: Number(s.SegmentNumber), label: String(s.SegmentLabel ?? '') }));
  return { rows, columns, segments, frames: out };
}

/** The label map of the frames derived from one source image (all frames when there is one image). */
export function segToLabelMap(seg: DicomSegmentation, sopInstanceUid?: string): LabelMap {
  const labels = new Uint8Array(seg.rows * seg.columns);
  for (const frame of seg.frames) {
    if (sopInstanceUid && frame.referencedSopInstanceUid !== sopInstanceUid) continue;
    for (let i = 0; i < labels.length; i++) if (frame.mask[i]) labels[i] = frame.segment;
  }
  return { width: seg.columns, height: seg.rows, labels };
}

export interface WriteSegOptions {
  /** Label of each foreground class 1..K−1 (index 0 = class 1). */
  segmentLabels: string[];
  seriesDescription?: string;
  contentCreator?: string;
  /** Fixed UIDs (tests); fresh ones otherwise. */
  uids?: { series: string; instance: string };
}

/** Packs 0/1 values into DICOM's bit order (first pixel in the least significant bit). */
function packBits(values: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(values.length / 8) + (Math.ceil(values.length / 8) % 2)); // even length
  for (let i = 0; i < values.length; i++) if (values[i]) out[i >> 3] |= 1 << (i & 7);
  return out;
}

/**
 * Writes a BINARY DICOM-SEG for a label map drawn on the single-frame image `sourceFile`: one
 * segment and one frame per foreground class, each frame derived from (and referencing) the source.
 */
export async function writeDicomSeg(mask: LabelMap, sourceFile: string, outFile: string, options: WriteSegOptions): Promise<void> {
  const src = await readDataset(sourceFile);
  if (Number(src.Rows) !== mask.height || Number(src.Columns) !== mask.width) {
    throw new DicomSegError(sourceFile, `is ${String(src.Columns)}×${String(src.Rows)}, the mask ${mask.width}×${mask.height}`);
  }
  if (Number(src.NumberOfFrames ?? 1) !== 1) throw new DicomSegError(sourceFile, 'multi-frame sources are not supported yet');
  const K = options.segmentLabels.length;
  const now = new Date();
  const date = now.toISOString().slice(0, 10).replace(/-/g, '');
  const time = now.toISOString().slice(11, 19).replace(/:/g, '');
  const instance = options.uids?.instance ?? DicomMetaDictionary.uid();
  const series = options.uids?.series ?? DicomMetaDictionary.uid();
  const dimensionOrg = options.uids ? `${series}.1` : DicomMetaDictionary.uid();
  const n = mask.width * mask.height;
  const frames = new Uint8Array(n * K);
  for (let i = 0; i < n; i++) if (mask.labels[i] > 0 && mask.labels[i] <= K) frames[(mask.labels[i] - 1) * n + i] = 1;
  const hasFrameOfReference = typeof src.FrameOfReferenceUID === 'string';
  const sourceRef = { ReferencedSOPClassUID: src.SOPClassUID, ReferencedSOPInstanceUID: src.SOPInstanceUID };
  const derivationCode = { CodeValue: '113076', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Segmentation' };
  const purposeCode = { CodeValue: '121322', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Source image for image processing operation' };
  const perFrame = options.segmentLabels.map((_, k) => ({
    DerivationImageSequence: [{ DerivationCodeSequence: [derivationCode], SourceImageSequence: [{ ...sourceRef, PurposeOfReferenceCodeSequence: [purposeCode] }] }],
    FrameContentSequence: [{ DimensionIndexValues: [k + 1] }],
    SegmentIdentificationSequence: [{ ReferencedSegmentNumber: k + 1 }],
    ...(hasFrameOfReference && src.ImagePositionPatient ? { PlanePositionSequence: [{ ImagePositionPatient: src.ImagePositionPatient }] } : {}),
  }));
  const sharedGroup: Dataset = {};
  if (hasFrameOfReference && src.ImageOrientationPatient) sharedGroup.PlaneOrientationSequence = [{ ImageOrientationPatient: src.ImageOrientationPatient }];
  if (src.PixelSpacing) sharedGroup.PixelMeasuresSequence = [{ PixelSpacing: src.PixelSpacing, SliceThickness: src.SliceThickness ?? 1 }];
  const dataset: Dataset = {
    SpecificCharacterSet: 'ISO_IR 192',
    ImageType: ['DERIVED', 'PRIMARY'],
    SOPClassUID: SEGMENTATION_STORAGE,
    SOPInstanceUID: instance,
    StudyDate: src.StudyDate ?? '',
    SeriesDate: date,
    ContentDate: date,
    StudyTime: src.StudyTime ?? '',
    SeriesTime: time,
    ContentTime: time,
    AccessionNumber: src.AccessionNumber ?? '',
    Modality: 'SEG',
    Manufacturer: 'MedTune',
    ReferringPhysicianName: src.ReferringPhysicianName ?? '',
    SeriesDescription: options.seriesDescription ?? 'MedTune segmentation',
    ManufacturerModelName: 'MedTune',
    ReferencedSeriesSequence: [{ SeriesInstanceUID: src.SeriesInstanceUID, ReferencedInstanceSequence: [sourceRef] }],
    PatientName: src.PatientName ?? '',
    PatientID: src.PatientID ?? '',
    PatientBirthDate: src.PatientBirthDate ?? '',
    PatientSex: src.PatientSex ?? '',
    DeviceSerialNumber: '0',
    SoftwareVersions: '0.1.0',
    StudyInstanceUID: src.StudyInstanceUID,
    SeriesInstanceUID: series,
    StudyID: src.StudyID ?? '',
    SeriesNumber: 300,
    InstanceNumber: 1,
    ...(hasFrameOfReference ? { FrameOfReferenceUID: src.FrameOfReferenceUID, PositionReferenceIndicator: src.PositionReferenceIndicator ?? '' } : {}),
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: dimensionOrg }],
    DimensionIndexSequence: [
      { DimensionOrganizationUID: dimensionOrg, DimensionIndexPointer: '0062000B', FunctionalGroupPointer: '0062000A', DimensionDescriptionLabel: 'ReferencedSegmentNumber' },
    ],
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    NumberOfFrames: K,
    Rows: mask.height,
    Columns: mask.width,
    BitsAllocated: 1,
    BitsStored: 1,
    HighBit: 0,
    PixelRepresentation: 0,
    LossyImageCompression: '00',
    SegmentationType: 'BINARY',
    ContentLabel: 'MEDTUNE',
    ContentDescription: 'Segmentation',
    ContentCreatorName: options.contentCreator ?? '',
    SegmentSequence: options.segmentLabels.map((label, k) => ({
      SegmentNumber: k + 1,
      SegmentLabel: label,
      SegmentAlgorithmType: 'MANUAL',
      SegmentedPropertyCategoryCodeSequence: [{ CodeValue: '91723000', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Anatomical Structure' }],
      SegmentedPropertyTypeCodeSequence: [{ CodeValue: '91723000', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Anatomical Structure' }],
    })),
    SharedFunctionalGroupsSequence: [sharedGroup],
    PerFrameFunctionalGroupsSequence: perFrame,
    PixelData: [packBits(frames).buffer],
    _vrMap: { PixelData: 'OB' },
  };
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: SEGMENTATION_STORAGE,
    MediaStorageSOPInstanceUID: instance,
    TransferSyntaxUID: EXPLICIT_LITTLE,
    ImplementationClassUID: '1.2.826.0.1.3680043.9.7433.1.1',
    ImplementationVersionName: 'MEDTUNE_010',
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  await fs.writeFile(outFile, Buffer.from(dict.write()));
}
