/**
 * Public entry of core/store: the workspace (SQLite + content-addressed blobs), its services,
 * the importer and the exporters. Other modules import from here only.
 */
export { Workspace, DB_FILE, BACKUPS_DIR, SCHEMA_VERSION, type WorkspaceInfo, type OpenOptions } from './workspace';
export { WorkspaceError, type WorkspaceErrorCode } from './errors';
export { BlobStore, sha256Hex, type BlobRecord } from './blobs';
export { MIGRATIONS, type Migration } from './schema';
export type { CaseSummary, WorklistQuery, WorklistFilter, WorklistSort } from './worklist';
export { MAX_PAGE } from './worklist';
export type { CaseDetail, QuarantineEntry } from './cases';
export type { CaseSeries, HangingPartner, HangingRule, ModelInputCase, SeriesMember, SeriesOfStudy } from './series';
export {
  TASK_KINDS, DEFAULT_TASK_SETTINGS, MAX_READS_PER_CASE, readingSettings,
  type TaskKind, type TaskClass, type LabelTask, type NewTask, type TaskSettings, type TaskLoopSettings, type ReadingSettings,
} from './tasks';
export { CASE_UNITS, LATERALITIES, lateralityFromName, normaliseScope, type CaseUnit, type Laterality, type ScopeOptions, type TaskScope } from './scope';
export { DEFAULT_SPLIT_FRACTIONS, type SplitAssignment, type SplitFractions, type SplitSource } from './splits';
export { displayText, type LabelValue, type LabelSource, type CurrentLabelSource, type ConsensusKind, type LabelEvent, type CurrentLabel, type SetLabel } from './labels';
export type { ReaderProfile, NewReader, PinAttempt } from './readers';
export { PIN_LOCKOUT } from './readers';
export { consensusOf, type CaseRead, type ReadView, type StateChange } from './reads';
export type { AgreementReport, PairAgreement } from './agreement';
export type { AdapterVersion, Backbone, LabelSnapshot, NewVersion, VersionStatus } from './versions';
export type { TrainRun, RunStatus, RunOwner, RunLive } from './runs';
export { HEARTBEAT_LIMIT_MS, processAlive, thisProcess } from './runs';
export type { Prediction, NewPrediction } from './predictions';
export type { Suggestion, NewSuggestions } from './suggestions';
export { labelProgress, type LabelProgress } from './progress';
export { MAX_COMMENT_LENGTH, type CaseComment } from './comments';
export { MASK_SOURCES, type MaskSource, type MaskTarget, type MaskEvent, type StoredMask, type SaveMask, type PredictedMask } from './masks';
export { MEASUREMENT_POINTS, type Measurement, type NewMeasurement } from './measurements';
export { MAX_NOTE_LENGTH, type ReviewMark, type ReviewMarkChange } from './review-marks';
export { splitFor, uidFromText, type ImportRecord, type ImportOptions, type ImportProgress, type ImportReport, type ImportFailure } from './import';
export { exportLabels, labelExportRows, hashUid, type LabelExportOptions, type LabelExportRow } from './export';
export { importLabelCsv, type LabelCsvOptions, type LabelCsvReport } from './label-csv';
export { parseCsv, csvLine, csvField, CsvError, type CsvTable } from './csv';
export type { StoredPacsConnection } from './pacs-connections';
export type { PacsOrigin } from './pacs-origins';
export { resolveUserPath, type UserPathOptions } from './user-path';
export { measurementExportRows, measurementsByCase, measurementsCsv } from './measurement-export';
