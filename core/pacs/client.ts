import type { InstanceRef, SeriesResult, StudyQuery, StudyResult } from './query';

/** What MedTune needs from a PACS, whichever protocol carries it (DICOMweb or DIMSE). */
export interface PacsClient {
  readonly protocol: 'dicomweb' | 'dimse';
  /** Proves the PACS answers and accepts our credentials (DICOMweb ping or C-ECHO). */
  echo(signal?: AbortSignal): Promise<void>;
  findStudies(q: StudyQuery, signal?: AbortSignal): Promise<StudyResult[]>;
  findSeries(studyUid: string, signal?: AbortSignal): Promise<SeriesResult[]>;
  /** Every instance of a study, or of one of its series. */
  listInstances(studyUid: string, seriesUid?: string, signal?: AbortSignal): Promise<InstanceRef[]>;
  /** One instance as a DICOM Part 10 file. */
  fetchInstance(ref: InstanceRef, signal?: AbortSignal): Promise<Buffer>;
  /** Sends DICOM Part 10 files to the PACS (STOW-RS or C-STORE). */
  store(files: Buffer[], signal?: AbortSignal): Promise<void>;
  /** Releases what the client holds open between requests (the C-MOVE storage SCP's port). */
  close?(): Promise<void>;
}
