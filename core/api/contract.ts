import { z } from 'zod';
import { pacsContract, pacsEvents } from './pacs-contract';
import { readingContract } from './reading-contract';
import { trainingContract, trainingEvents } from './training-contract';
import { readersContract } from './readers-contract';
import { maskContract } from './mask-contract';
import type { ChannelName, EventName } from './names';
import type { Result } from './errors';
import { CASE_FILTERS, CASE_SORTS, CASE_UNITS, LATERALITIES, MEASUREMENT_KINDS, SPLITS, TASK_KINDS, TRAINING_LABEL_MODES } from '../vocabulary';

export type { AgreementReportT, PairAgreementT, ReaderProfileT, ReadersStateT, ReadViewT } from './readers-contract';
export type { HangingRuleT, SeriesStackT, WorklistGroupsT, WorklistSeriesGroupT } from './reading-contract';

/**
 * The one contract between the renderer and the application: every channel with its request and
 * response schema, and every event. Both transports (Electron IPC and the loopback WebSocket
 * bridge) validate against it; the renderer's `window.medtune` is typed from it.
 */

export const AppInfo = z.object({
  name: z.string(),
  version: z.string(),
  transport: z.enum(['electron', 'websocket']),
  platform: z.string(),
  node: z.string(),
  /** Who labels and measures in this session (the OS user unless set); the renderer keys per-reader settings by it. */
  reader: z.string().optional(),
});

export const WorkspaceInfo = z.object({
  dir: z.string(),
  name: z.string(),
  schemaVersion: z.number().int(),
  caseCount: z.number().int().nonnegative(),
  createdAt: z.string(),
});

const absoluteishPath = z.string().trim().min(1, 'a folder path is required').max(4096);

export const CaseFilter = z.enum(CASE_FILTERS);
export const CaseSort = z.enum(CASE_SORTS);

export const CaseSummary = z.object({
  id: z.number().int(),
  kind: z.enum(['dicom', 'photo']),
  displayName: z.string(),
  patientId: z.string().optional(),
  patientName: z.string().optional(),
  studyDate: z.string().optional(),
  modality: z.string().optional(),
  label: z.string().optional(),
  predicted: z.string().optional(),
  confidence: z.number().optional(),
  uncertainty: z.number().optional(),
  suggestionRank: z.number().int().optional(),
  /** The case's split in the shown task: set once labelled, or when the user held it out for test. */
  taskSplit: z.enum(SPLITS).optional(),
  importedAt: z.string(),
  frameCount: z.number().int().nonnegative().default(1),
  quarantined: z.boolean().default(false),
  /** Marked for review (labels.flag). */
  flagged: z.boolean().default(false),
  /** Skipped for now (labels.skip); labelling the case clears it. */
  skipped: z.boolean().default(false),
  /** Series and study tasks: the images this row's representative case stands for. */
  unitSize: z.number().int().positive().optional(),
});

export const ListCasesRequest = z.object({
  offset: z.number().int().nonnegative().default(0),
  limit: z.number().int().positive().max(1000).default(100),
  filter: CaseFilter.default('all'),
  search: z.string().max(200).optional(),
  taskId: z.number().int().optional(),
  sort: CaseSort.default('imported'),
});

const Empty = z.object({}).strict();
const Id = z.number().int().positive();

// ---- label tasks -------------------------------------------------------------------------------

export const TaskKind = z.enum(TASK_KINDS);
const hexColour = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a colour is #rrggbb');
export const TaskClass = z.object({ name: z.string(), color: z.string(), hotkey: z.string().optional() });
export const CaseUnit = z.enum(CASE_UNITS);
const uidList = z.array(z.string().trim().min(1).max(64)).max(10_000);
/** Which cases a task is about (core/store/scope.ts); an absent field does not narrow it. */
export const TaskScope = z
  .object({
    modalities: z.array(z.string().trim().min(1).max(16)).max(100).optional(),
    kinds: z.array(z.enum(['photo', 'dicom'])).optional(),
    colour: z.enum(['colour', 'greyscale']).optional(),
    laterality: z.array(z.enum(LATERALITIES)).optional(),
    bodyParts: z.array(z.string().trim().min(1).max(64)).max(100).optional(),
    studyUids: uidList.optional(),
    seriesUids: uidList.optional(),
    search: z.string().max(200).optional(),
  })
  .strict();
/** Several readers (docs/readers.md): k blind reads per case, the model hidden meanwhile, what training takes, repeat share. */
const ReadingFields = {
  readsPerCase: z.number().int().min(1).max(10).optional(),
  showModelInBlind: z.boolean().optional(),
  trainingLabel: z.enum(TRAINING_LABEL_MODES).optional(),
  intraReaderFraction: z.number().min(0).max(1).optional(),
  repeatAfterReads: z.number().int().min(0).max(1000).optional(),
  repeatAfterHours: z.number().min(0).max(24 * 366).optional(),
};
export const TaskSettings = z.object({
  splitFractions: z.object({ val: z.number(), test: z.number() }),
  scope: TaskScope,
  caseUnit: CaseUnit,
  ...ReadingFields,
});
export const LabelTask = z.object({
  id: Id,
  name: z.string(),
  kind: TaskKind,
  classes: z.array(TaskClass),
  description: z.string().optional(),
  settings: TaskSettings,
  createdAt: z.string(),
});
export const UpdateTaskRequest = z.object({
  id: Id,
  scope: TaskScope.optional(),
  /** Only while the task has no labels (labels stay on the case they were given to). */
  caseUnit: CaseUnit.optional(),
  ...ReadingFields,
});
const Facet = <T extends z.ZodTypeAny>(value: T) => z.array(z.object({ value, count: z.number().int().nonnegative() }));
export const ScopeOptions = z.object({
  modalities: Facet(z.string()),
  bodyParts: Facet(z.string()),
  kinds: Facet(z.enum(['photo', 'dicom'])),
  colour: Facet(z.enum(['colour', 'greyscale', 'unknown'])),
  laterality: Facet(z.enum(LATERALITIES)),
});
export const CreateTaskRequest = z.object({
  name: z.string().trim().min(1, 'a task needs a name').max(200),
  kind: TaskKind.default('multiclass'),
  classes: z
    .array(
      z.object({
        name: z.string().trim().min(1, 'a class needs a name').max(100),
        color: hexColour.optional(),
        hotkey: z.string().length(1, 'a hotkey is one key').optional(),
      }),
    )
    .min(1, 'a task needs classes')
    .max(50),
  description: z.string().max(2000).optional(),
  scope: TaskScope.optional(),
  caseUnit: CaseUnit.default('image'),
});

// ---- labels ------------------------------------------------------------------------------------

/** multiclass/ordinal: a class name; multilabel: class names; segmentation: a stored mask. */
export const LabelValue = z.union([
  z.string(),
  z.array(z.string()),
  z.object({ maskSha256: z.string(), rows: z.number().int(), columns: z.number().int() }),
]);
export const LabelSource = z.enum(['human', 'accepted-suggestion', 'import']);
export const LabelEvent = z.object({
  id: Id,
  caseId: Id,
  taskId: Id,
  value: LabelValue.nullable(),
  valueText: z.string().nullable(),
  author: z.string(),
  source: LabelSource,
  adapterVersionId: z.number().int().optional(),
  /** "v3 · DVPT": the adapter version that suggested an accepted label. */
  adapterVersionName: z.string().optional(),
  undoOf: z.number().int().optional(),
  /** Tasks read k > 1 times: the event writes the readers' consensus ('agreed') or a reviewer's decision ('adjudicated'). */
  consensus: z.enum(['agreed', 'adjudicated']).optional(),
  createdAt: z.string(),
});
const LabelTarget = z.object({ caseId: Id, taskId: Id });
export const LabelChange = z.object({
  /** The event written, null when there was nothing to undo. */
  event: LabelEvent.nullable(),
  /** The case's label after the change (display text), null for no label. */
  label: z.string().nullable(),
});

// ---- cases -------------------------------------------------------------------------------------

export const CaseDetail = z.object({
  id: Id,
  kind: z.enum(['dicom', 'photo']),
  displayName: z.string(),
  sourcePath: z.string(),
  format: z.string(),
  frameCount: z.number().int(),
  rows: z.number().int().optional(),
  columns: z.number().int().optional(),
  split: z.enum(['train', 'val']),
  importedAt: z.string(),
  sopInstanceUid: z.string(),
  instanceNumber: z.number().optional(),
  seriesInstanceUid: z.string(),
  seriesNumber: z.number().optional(),
  seriesDescription: z.string().optional(),
  modality: z.string().optional(),
  bodyPart: z.string().optional(),
  studyInstanceUid: z.string(),
  studyDate: z.string().optional(),
  studyTime: z.string().optional(),
  studyDescription: z.string().optional(),
  accessionNumber: z.string().optional(),
  institutionName: z.string().optional(),
  patientId: z.string().optional(),
  patientName: z.string().optional(),
  patientBirthDate: z.string().optional(),
  patientSex: z.string().optional(),
});

export const CaseRecord = z.object({
  case: CaseDetail,
  /** Where a retrieved case came from (core/pacs); absent for cases imported from files. */
  pacsOrigin: z.object({ connection: z.string(), studyUid: z.string(), seriesUid: z.string(), retrievedAt: z.string() }).optional(),
  /** The task the label fields refer to (the first task when none was asked for); null without tasks. */
  taskId: z.number().int().nullable(),
  label: z.string().nullable(),
  /** Oldest first. */
  history: z.array(LabelEvent),
  prediction: z
    .object({
      versionId: Id,
      versionName: z.string(),
      predicted: z.string().optional(),
      confidence: z.number().optional(),
      probabilities: z.array(z.number()),
    })
    .nullable(),
  suggestion: z.object({ rank: z.number().int(), score: z.number(), strategy: z.string(), reason: z.string().optional() }).nullable(),
  quarantine: z.object({ code: z.string(), reason: z.string() }).nullable(),
  /** Skip and flag-for-review, stored in the workspace; author/updatedAt: the last change, absent without marks. */
  review: z.object({
    flagged: z.boolean(),
    skipped: z.boolean(),
    note: z.string().optional(),
    author: z.string().optional(),
    updatedAt: z.string().optional(),
  }),
});

const typedArray = <T extends ArrayBufferView>(what: string) =>
  z.custom<T>((v) => ArrayBuffer.isView(v) && !(v instanceof DataView), `${what} must be a typed array`);
type PixelArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;
const LookupTable = z.object({
  firstMapped: z.number(),
  bitsPerEntry: z.number(),
  data: typedArray<Uint16Array | Uint8Array>('LUT data'),
  explanation: z.string().optional(),
});
const WindowPreset = z.object({ center: z.number(), width: z.number(), explanation: z.string().optional() });

/**
 * What the viewer needs to draw a case: the stored values (typed arrays, carried as binary by both
 * transports) plus everything the display pipeline (core/imaging/display.ts) reads.
 */
export const ViewerImage = z.object({
  caseId: Id,
  source: z.string(),
  kind: z.enum(['dicom', 'photo']),
  rows: z.number().int().positive(),
  columns: z.number().int().positive(),
  samplesPerPixel: z.number().int(),
  numberOfFrames: z.number().int().positive(),
  /** Index of frames[0] in the image (a request may ask for a range). */
  firstFrame: z.number().int().nonnegative(),
  frames: z.array(typedArray<PixelArray>('a frame')),
  photometric: z.enum(['MONOCHROME1', 'MONOCHROME2', 'RGB', 'YBR_FULL', 'YBR_FULL_422', 'PALETTE COLOR']),
  bitsAllocated: z.number().int(),
  bitsStored: z.number().int(),
  signed: z.boolean(),
  lossy: z.boolean(),
  /** A reduced-resolution first view (cases.preview): the full image's size; the full image follows from cases.image. */
  preview: z.object({ rows: z.number().int().positive(), columns: z.number().int().positive() }).optional(),
  modality: z.object({ slope: z.number(), intercept: z.number(), lut: LookupTable.optional(), unit: z.string().optional() }),
  voi: z.object({ windows: z.array(WindowPreset), luts: z.array(LookupTable), fn: z.enum(['LINEAR', 'LINEAR_EXACT', 'SIGMOID']) }),
  palette: z.object({ red: LookupTable, green: LookupTable, blue: LookupTable }).optional(),
  metadata: z.object({
    patientId: z.string().optional(),
    patientName: z.string().optional(),
    patientBirthDate: z.string().optional(),
    patientSex: z.string().optional(),
    studyDate: z.string().optional(),
    studyTime: z.string().optional(),
    studyDescription: z.string().optional(),
    seriesDescription: z.string().optional(),
    seriesNumber: z.number().optional(),
    instanceNumber: z.number().optional(),
    accessionNumber: z.string().optional(),
    modality: z.string().optional(),
    bodyPart: z.string().optional(),
    institutionName: z.string().optional(),
    manufacturer: z.string().optional(),
    pixelSpacing: z.tuple([z.number(), z.number()]).optional(),
    sliceThickness: z.number().optional(),
    photoFormat: z.string().optional(),
  }),
});

export const Thumbnail = z.object({
  caseId: Id,
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  rgba: typedArray<Uint8ClampedArray>('thumbnail pixels'),
});

// ---- viewer: DICOM elements and measurements ---------------------------------------------------

export interface DicomTagNodeT {
  tag: string;
  name: string;
  vr: string;
  length: number;
  value: string;
  items?: DicomTagNodeT[][];
}
/** One element of a file: "(0008,0060)", its dictionary name, VR, length, a readable value; sequences nest per item. */
export const DicomTagNode: z.ZodType<DicomTagNodeT> = z.lazy(() =>
  z.object({
    tag: z.string(),
    name: z.string(),
    vr: z.string(),
    length: z.number(),
    value: z.string(),
    items: z.array(z.array(DicomTagNode)).optional(),
  }),
);
const SpacingPair = z.tuple([z.number(), z.number()]);
export const DicomTags = z.object({
  caseId: Id,
  /** False for photos: they have no DICOM elements (`elements` is then empty and `note` says why). */
  dicom: z.boolean(),
  transferSyntax: z.string().optional(),
  elements: z.array(DicomTagNode),
  /** Pixel Spacing (0028,0030) (top level or functional groups) and Imager Pixel Spacing (0018,1164), for mm. */
  pixelSpacing: SpacingPair.optional(),
  imagerPixelSpacing: SpacingPair.optional(),
  warnings: z.array(z.string()),
  note: z.string().optional(),
});

export const MeasurementKind = z.enum(MEASUREMENT_KINDS);
const ImagePoint = z.tuple([z.number().finite(), z.number().finite()]);
/** Points in image pixels: length 2 ends, angle arm–vertex–arm, ellipse/rectangle two opposite corners. */
export const Measurement = z.object({
  id: Id,
  caseId: Id,
  frame: z.number().int().nonnegative(),
  kind: MeasurementKind,
  points: z.array(ImagePoint),
  author: z.string(),
  createdAt: z.string(),
});

// ---- import ------------------------------------------------------------------------------------

export const ImportFailure = z.object({ file: z.string(), reason: z.string(), code: z.string() });
export const ImportReport = z.object({
  total: z.number().int(),
  imported: z.number().int(),
  duplicates: z.number().int(),
  skipped: z.number().int(),
  failed: z.number().int(),
  /** Files that could not be read: they are in the workspace's quarantine with the reason. */
  quarantine: z.array(ImportFailure),
  skippedFiles: z.array(z.object({ file: z.string(), reason: z.string() })),
  cancelled: z.boolean(),
  caseCount: z.number().int(),
});
export const ImportProgress = z.object({ done: z.number().int(), total: z.number().int(), current: z.string() });

// ---- work management: progress, guidelines, comments, label export, folders, recent workspaces ----

export const ReaderCount = z.object({ author: z.string(), labelled: z.number().int().nonnegative() });
export const Progress = z.object({
  taskId: Id,
  /** Cases in the task's scope (not quarantined). */
  total: z.number().int().nonnegative(),
  labelled: z.number().int().nonnegative(),
  /** Labelled cases by the reader who gave the current label, most first. */
  byReader: z.array(ReaderCount),
});
export const CaseComment = z.object({ id: Id, caseId: Id, author: z.string(), body: z.string(), createdAt: z.string() });
export const LabelExportResult = z.object({
  file: z.string(),
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  /** Measurements exported: in the JSON file per case, or for CSV in `measurementsFile` (absent when there were none). */
  measurements: z.number().int().nonnegative(),
  measurementsFile: z.string().optional(),
});
export const FolderEntry = z.object({ name: z.string(), path: z.string(), kind: z.enum(['folder', 'file']) });
export const FolderListing = z.object({
  /** The folder listed (symlinks resolved). */
  dir: z.string(),
  /** Its parent when that is still inside an allowed root; null at a root. */
  parent: z.string().nullable(),
  /** The folders browsing may start from: the home folder and MEDTUNE_ALLOWED_ROOTS. */
  roots: z.array(z.string()),
  /** Folders first, then files, by name; hidden entries left out. */
  entries: z.array(FolderEntry),
  /** True when the folder holds a MedTune workspace. */
  isWorkspace: z.boolean(),
  truncated: z.boolean(),
});
export const RecentWorkspace = z.object({ dir: z.string(), name: z.string(), openedAt: z.string() });

// ---- desktop (Electron only) -------------------------------------------------------------------

/** What a native file dialog is for; it decides the dialog's kind, title and filters. */
export const PathPurpose = z.enum(['workspace-open', 'workspace-create', 'import-files', 'import-folder', 'export-folder']);
/** Application-menu items the renderer carries out (they need its stores: a dialog, a screen, an overlay). */
export const DesktopCommand = z.enum([
  'workspace-create',
  'workspace-open',
  'workspace-close',
  'import-files',
  'import-folder',
  'view-reading',
  'view-training',
  'view-settings',
  'toggle-deidentified',
  'show-shortcuts',
]);

export const contract = {
  'app.info': { request: Empty, response: AppInfo },
  'workspace.create': { request: z.object({ dir: absoluteishPath, name: z.string().max(200).optional() }), response: WorkspaceInfo },
  'workspace.open': { request: z.object({ dir: absoluteishPath }), response: WorkspaceInfo },
  'workspace.current': { request: Empty, response: WorkspaceInfo.nullable() },
  'workspace.close': { request: Empty, response: z.null() },
  'cases.list': {
    request: ListCasesRequest,
    response: z.object({ total: z.number().int().nonnegative(), items: z.array(CaseSummary) }),
  },
  'cases.get': { request: z.object({ id: Id, taskId: Id.optional() }), response: CaseRecord },
  'cases.image': {
    request: z.object({
      id: Id,
      firstFrame: z.number().int().nonnegative().default(0),
      /** Frames to send from firstFrame; all when absent. */
      frameCount: z.number().int().positive().optional(),
    }),
    response: ViewerImage,
  },
  /** JPEG 2000: a quick reduced-resolution first view (longer side ≤ maxSide) while cases.image decodes; null otherwise. */
  'cases.preview': {
    request: z.object({ id: Id, maxSide: z.number().int().min(64).max(2048).default(256) }),
    response: ViewerImage.nullable(),
  },
  'cases.thumbnail': { request: z.object({ id: Id, size: z.number().int().min(16).max(256).default(64) }), response: Thumbnail },
  'tasks.list': { request: Empty, response: z.array(LabelTask) },
  'tasks.create': { request: CreateTaskRequest, response: LabelTask },
  'tasks.update': { request: UpdateTaskRequest, response: LabelTask },
  'tasks.scopeOptions': { request: Empty, response: ScopeOptions },
  'import.start': {
    request: z.object({
      paths: z.array(z.string().trim().min(1).max(4096)).min(1, 'name at least one file or folder').max(1000),
      /** Leave files where they are instead of copying them into the workspace. */
      reference: z.boolean().default(false),
    }),
    response: ImportReport,
  },
  'import.cancel': { request: Empty, response: z.object({ cancelled: z.boolean() }) },
  'labels.set': { request: LabelTarget.extend({ value: LabelValue.nullable() }), response: LabelChange },
  'labels.undo': { request: LabelTarget, response: LabelChange },
  'labels.accept': { request: LabelTarget, response: LabelChange },
  'labels.skip': { request: LabelTarget.extend({ skipped: z.boolean().default(true) }), response: z.object({ skipped: z.boolean() }) },
  'labels.flag': {
    request: LabelTarget.extend({ flagged: z.boolean().default(true), note: z.string().max(2000).optional() }),
    response: z.object({ flagged: z.boolean() }),
  },
  /** Holds cases out for the task's test split (a worklist selection), or returns them to the pool. */
  'splits.set': {
    request: z.object({ taskId: Id, caseIds: z.array(Id).min(1, 'choose at least one case').max(10_000), split: z.enum(['test', 'pool']) }),
    response: z.object({
      /** The cases whose split changed. */
      changed: z.array(Id),
      counts: z.object({ train: z.number().int(), val: z.number().int(), test: z.number().int() }),
    }),
  },
  'cases.tags': { request: z.object({ id: Id }), response: DicomTags },
  'measurements.list': { request: z.object({ caseId: Id }), response: z.array(Measurement) },
  'measurements.add': {
    request: z.object({ caseId: Id, frame: z.number().int().nonnegative().default(0), kind: MeasurementKind, points: z.array(ImagePoint).min(2).max(3) }),
    response: Measurement,
  },
  'measurements.delete': { request: z.object({ id: Id }), response: z.object({ deleted: z.boolean() }) },
  'work.progress': { request: z.object({ taskId: Id.optional() }), response: Progress },
  'tasks.guidelines': { request: z.object({ taskId: Id }), response: z.object({ taskId: Id, markdown: z.string() }) },
  'tasks.setGuidelines': {
    request: z.object({ taskId: Id, markdown: z.string().max(100_000, 'guidelines are at most 100,000 characters') }),
    response: z.object({ taskId: Id, markdown: z.string() }),
  },
  'comments.list': { request: z.object({ caseId: Id }), response: z.array(CaseComment) },
  'comments.add': { request: z.object({ caseId: Id, body: z.string().trim().min(1, 'a comment cannot be empty').max(4000) }), response: CaseComment },
  'comments.delete': { request: z.object({ id: Id }), response: z.object({ deleted: z.boolean() }) },
  'labels.export': {
    request: z.object({
      taskId: Id,
      format: z.enum(['csv', 'json']).default('csv'),
      deidentify: z.boolean().default(false),
      /** The folder the file is written into (made if absent). */
      dir: absoluteishPath,
    }),
    response: LabelExportResult,
  },
  /** Browser mode's folder picker: lists a folder inside the allowed roots (the home folder when none is named). */
  'files.browse': { request: z.object({ dir: z.string().max(4096).optional(), files: z.boolean().default(false) }), response: FolderListing },
  'workspace.recent': { request: Empty, response: z.array(RecentWorkspace) },
  /** Imports a batch of files uploaded to /upload (browser drops) through the normal importer, then removes the batch. */
  'uploads.import': { request: z.object({ batch: z.string().regex(/^[0-9a-f]{8,64}$/, 'an upload batch is hex') }), response: ImportReport },
  ...trainingContract,
  ...pacsContract,
  ...readingContract,
  ...readersContract,
  ...maskContract,
  /** Shows a native dialog; the chosen paths, none when cancelled. Browser mode: `unsupported`. */
  'desktop.choosePaths': { request: z.object({ purpose: PathPurpose }), response: z.object({ paths: z.array(z.string()) }) },
} satisfies Record<ChannelName, { request: z.ZodType; response: z.ZodType }>;

export const events = {
  'workspace.changed': WorkspaceInfo.nullable(),
  'import.progress': ImportProgress,
  ...trainingEvents,
  ...pacsEvents,
  'desktop.command': z.object({ command: DesktopCommand }),
} satisfies Record<EventName, z.ZodType>;

export type Contract = typeof contract;
/** What the caller may send (defaults may be omitted). */
export type RequestOf<C extends ChannelName> = z.input<Contract[C]['request']>;
/** What a handler receives (defaults filled in). */
export type ParsedRequestOf<C extends ChannelName> = z.output<Contract[C]['request']>;
export type ResponseOf<C extends ChannelName> = z.output<Contract[C]['response']>;
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;

export type AppInfoT = z.output<typeof AppInfo>;
export type WorkspaceInfoT = z.output<typeof WorkspaceInfo>;
export type CaseSummaryT = z.output<typeof CaseSummary>;
export type CaseRecordT = z.output<typeof CaseRecord>;
export type LabelTaskT = z.output<typeof LabelTask>;
export type TaskScopeT = z.output<typeof TaskScope>;
export type ScopeOptionsT = z.output<typeof ScopeOptions>;
export type LabelEventT = z.output<typeof LabelEvent>;
export type ViewerImageT = z.output<typeof ViewerImage>;
export type ThumbnailT = z.output<typeof Thumbnail>;
export type ImportReportT = z.output<typeof ImportReport>;
export type ImportProgressT = z.output<typeof ImportProgress>;
export type LabelChangeT = z.output<typeof LabelChange>;
export type PathPurposeT = z.output<typeof PathPurpose>;
export type DesktopCommandT = z.output<typeof DesktopCommand>;
export type DicomTagsT = z.output<typeof DicomTags>;
export type MeasurementT = z.output<typeof Measurement>;
export type MeasurementKindT = z.output<typeof MeasurementKind>;
export type ProgressT = z.output<typeof Progress>;
export type CaseCommentT = z.output<typeof CaseComment>;
export type FolderListingT = z.output<typeof FolderListing>;
export type RecentWorkspaceT = z.output<typeof RecentWorkspace>;
export type LabelExportResultT = z.output<typeof LabelExportResult>;

/**
 * The API the renderer sees as `window.medtune`, identical over both transports.
 * `invoke` never rejects for expected failures: it resolves to a Result with a code and message.
 */
export interface MedtuneApi {
  invoke<C extends ChannelName>(channel: C, request: RequestOf<C>): Promise<Result<ResponseOf<C>>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
  /**
   * Electron only: the file-system paths of dropped `File` objects (Electron's webUtils.getPathForFile),
   * '' for one without a path. Browsers never reveal these paths, so browser mode leaves it out.
   */
  pathsForFiles?(files: readonly object[]): string[];
}
