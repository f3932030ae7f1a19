/** What a user asks a PACS for; every field is optional and they combine with AND. */
export interface StudyQuery {
  patientId?: string;
  /** DICOM wildcard matching (`*`, `?`); a plain name is matched as a prefix. */
  patientName?: string;
  /** YYYYMMDD, inclusive. */
  dateFrom?: string;
  dateTo?: string;
  modality?: string;
  accessionNumber?: string;
  /** Words that appear in this order (or DICOM wildcards when it holds `*` or `?`). */
  studyDescription?: string;
  limit?: number;
}

export interface StudyResult {
  studyUid: string;
  patientId?: string;
  patientName?: string;
  studyDate?: string;
  accessionNumber?: string;
  description?: string;
  modalities: string[];
  seriesCount?: number;
  instanceCount?: number;
}

export interface SeriesResult {
  studyUid: string;
  seriesUid: string;
  modality?: string;
  seriesNumber?: number;
  description?: string;
  instanceCount?: number;
}

export interface InstanceRef {
  studyUid: string;
  seriesUid: string;
  sopInstanceUid: string;
  /** When the listing gave it: C-GET proposes this SOP class so the PACS can send the instance back. */
  sopClassUid?: string;
}

/** A retrieve selection: whole studies, or single series of a study. */
export type RetrieveTarget = { studyUid: string; seriesUid?: string };

const DATE = /^\d{8}$/;

/** Checks a query before it goes out, so a typo is an error here and not an empty answer from the PACS. */
export function validateStudyQuery(q: StudyQuery): StudyQuery {
  for (const [key, value] of [['dateFrom', q.dateFrom], ['dateTo', q.dateTo]] as const) {
    if (value !== undefined && !DATE.test(value)) throw new Error(`${key} must be YYYYMMDD, got "${value}"`);
  }
  if (q.limit !== undefined && (!Number.isInteger(q.limit) || q.limit < 1)) throw new Error(`limit must be a positive integer`);
  return q;
}

/** The DICOM matching keys of a query (attribute keyword → value), shared by QIDO-RS and C-FIND. */
export function matchingKeys(q: StudyQuery): Record<string, string> {
  const keys: Record<string, string> = {};
  if (q.patientId) keys.PatientID = q.patientId;
  if (q.patientName) keys.PatientName = /[*?]/.test(q.patientName) ? q.patientName : `${q.patientName}*`;
  if (q.dateFrom || q.dateTo) keys.StudyDate = q.dateFrom === q.dateTo ? q.dateFrom! : `${q.dateFrom ?? ''}-${q.dateTo ?? ''}`;
  if (q.modality) keys.ModalitiesInStudy = q.modality;
  if (q.accessionNumber) keys.AccessionNumber = q.accessionNumber;
  // Words in order, anywhere: some PACS (Orthanc 1.10) match nothing when a wildcard value holds spaces.
  if (q.studyDescription) keys.StudyDescription = /[*?]/.test(q.studyDescription) ? q.studyDescription : `*${q.studyDescription.trim().split(/\s+/).join('*')}*`;
  return keys;
}
