import { randomUUID } from 'node:crypto';
import dcmjs from 'dcmjs';
import { APP_VERSION } from '../app-info';

/** One labelled case as it goes into a report. */
export interface ReportedCase {
  sopClassUid: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  /** The class label as the reader sees it. */
  label: string;
  /** Who set the label (the workspace's author name). */
  reader: string;
}

/** One report per study: the patient and study come from the cases, so it files beside their images. */
export interface StudyReport {
  studyInstanceUid: string;
  patientId?: string;
  patientName?: string;
  patientBirthDate?: string;
  patientSex?: string;
  studyDate?: string;
  studyTime?: string;
  accessionNumber?: string;
  /** The labelling task (its name goes into the document title). */
  taskName: string;
  /** The adapter version that was active, e.g. "adapter 3 (dvpt)"; absent when no model was used. */
  modelVersion?: string;
  cases: ReportedCase[];
}

const BASIC_TEXT_SR = '1.2.840.10008.5.1.4.1.1.88.11';
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
/** MedTune's implementation class UID, under the UUID-derived root 2.25 (no registered root needed). */
/** MedTune's Implementation Class UID, in the file meta header of every file it writes. */
export const IMPLEMENTATION_CLASS_UID = '2.25.171982468612949384930475528203758690311';

/** A fresh UID under 2.25 (ISO/IEC 9834-8: a UUID as one decimal integer). */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

const code = (value: string, scheme: string, meaning: string) => [{ CodeValue: value, CodingSchemeDesignator: scheme, CodeMeaning: meaning }];

/**
 * A DICOM Basic Text SR recording, for each case of one study, its class label and its reader, and the
 * model version that assisted: a root container with the observer context, the algorithm identity and
 * one "Finding" text per case, inferred from the image it labels. Returns a Part 10 file and its UID.
 */
export function buildStudyReport(r: StudyReport, now = new Date()): { file: Buffer; sopInstanceUid: string } {
  if (r.cases.length === 0) throw new Error(`study ${r.studyInstanceUid}: nothing to report`);
  const sopInstanceUid = newUid();
  const date = dicomDate(now);
  const time = dicomTime(now);
  const readers = [...new Set(r.cases.map((c) => c.reader))];

  // Readers are workspace author names, not structured person names: record them as login names.
  const content: Record<string, unknown>[] = readers.map((reader) => ({
    RelationshipType: 'HAS OBS CONTEXT',
    ValueType: 'TEXT',
    ConceptNameCodeSequence: code('128774', 'DCM', "Person Observer's Login Name"),
    TextValue: reader,
  }));
  content.push(
    { RelationshipType: 'HAS OBS CONTEXT', ValueType: 'TEXT', ConceptNameCodeSequence: code('111001', 'DCM', 'Algorithm Name'), TextValue: 'MedTune' },
    {
      RelationshipType: 'HAS OBS CONTEXT',
      ValueType: 'TEXT',
      ConceptNameCodeSequence: code('111003', 'DCM', 'Algorithm Version'),
      TextValue: r.modelVersion ? `${APP_VERSION}; ${r.modelVersion}` : `${APP_VERSION}; no model`,
    },
  );
  for (const c of r.cases) {
    content.push({
      RelationshipType: 'CONTAINS',
      ValueType: 'TEXT',
      ConceptNameCodeSequence: code('121071', 'DCM', 'Finding'),
      TextValue: `${c.label} (read by ${c.reader})`,
      ContentSequence: [
        {
          RelationshipType: 'INFERRED FROM',
          ValueType: 'IMAGE',
          ReferencedSOPSequence: [{ ReferencedSOPClassUID: c.sopClassUid, ReferencedSOPInstanceUID: c.sopInstanceUid }],
        },
      ],
    });
  }

  const bySeries = new Map<string, ReportedCase[]>();
  for (const c of r.cases) bySeries.set(c.seriesInstanceUid, [...(bySeries.get(c.seriesInstanceUid) ?? []), c]);

  const dataset: Record<string, unknown> = {
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: BASIC_TEXT_SR,
    SOPInstanceUID: sopInstanceUid,
    StudyDate: asDicomDate(r.studyDate),
    StudyTime: asDicomTime(r.studyTime),
    ContentDate: date,
    ContentTime: time,
    AccessionNumber: r.accessionNumber ?? '',
    Modality: 'SR',
    Manufacturer: 'MedTune',
    ReferringPhysicianName: '',
    SeriesDescription: `MedTune labels: ${r.taskName}`,
    ReferencedPerformedProcedureStepSequence: [],
    PatientName: r.patientName ?? '',
    PatientID: r.patientId ?? '',
    PatientBirthDate: asDicomDate(r.patientBirthDate),
    PatientSex: r.patientSex ?? '',
    SoftwareVersions: APP_VERSION,
    StudyInstanceUID: r.studyInstanceUid,
    SeriesInstanceUID: newUid(),
    StudyID: '',
    SeriesNumber: 9901,
    InstanceNumber: 1,
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: code('18748-4', 'LN', 'Diagnostic Imaging Report'),
    ContinuityOfContent: 'SEPARATE',
    CompletionFlag: 'COMPLETE',
    VerificationFlag: 'UNVERIFIED',
    PerformedProcedureCodeSequence: [],
    CurrentRequestedProcedureEvidenceSequence: [
      {
        StudyInstanceUID: r.studyInstanceUid,
        ReferencedSeriesSequence: [...bySeries].map(([seriesUid, cases]) => ({
          SeriesInstanceUID: seriesUid,
          ReferencedSOPSequence: cases.map((c) => ({ ReferencedSOPClassUID: c.sopClassUid, ReferencedSOPInstanceUID: c.sopInstanceUid })),
        })),
      },
    ],
    ContentSequence: content,
  };

  const version = new Uint8Array([0, 1]);
  const meta = dcmjs.data.DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: version.buffer,
    MediaStorageSOPClassUID: BASIC_TEXT_SR,
    MediaStorageSOPInstanceUID: sopInstanceUid,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: `MEDTUNE_${APP_VERSION}`.slice(0, 16),
  });
  const dict = new dcmjs.data.DicomDict(meta);
  dict.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(dataset);
  return { file: Buffer.from(dict.write()), sopInstanceUid };
}

/**
 * A stored date as DA (YYYYMMDD). Old ACR-NEMA files write "1994.11.05", which a DA may not hold; any
 * other form is left empty (type 2: present, may be empty) rather than written wrong.
 */
export function asDicomDate(value: string | undefined): string {
  const digits = (value ?? '').replace(/[.\-/\s]/g, '');
  return /^\d{8}$/.test(digits) ? digits : '';
}

/** A stored time as TM (HHMMSS.FFFFFF); ACR-NEMA's "12:34:56" loses its colons, anything else is left empty. */
export function asDicomTime(value: string | undefined): string {
  const t = (value ?? '').replace(/:/g, '').trim();
  return /^\d{2,6}(\.\d{1,6})?$/.test(t) ? t : '';
}

function dicomDate(d: Date): string {
  return d.toISOString().slice(0, 10).replace(/-/g, '');
}

function dicomTime(d: Date): string {
  return d.toISOString().slice(11, 19).replace(/:/g, '');
}
