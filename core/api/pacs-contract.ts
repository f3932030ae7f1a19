import { z } from 'zod';

/**
 * The PACS half of the contract: connections (secret-free), echo, study and series queries, retrieve
 * with progress and cancel. The work is core/pacs's; core/app/pacs-handlers.ts maps it onto these channels.
 */

const Empty = z.object({}).strict();
const Name = z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a connection name is letters, digits, . _ - (up to 64)');
const AeTitle = z.string().trim().min(1, 'an AE title is required').max(16, 'an AE title has at most 16 characters');
const Port = z.number().int().min(1).max(65535);
const Uid = z.string().regex(/^[0-9.]{1,64}$/, 'a DICOM UID');
const EnvName = z.string().trim().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name (letters, digits, _)');
const Date8 = z.string().regex(/^\d{8}$/, 'a date is YYYYMMDD');
/** `dimse`: C-MOVE when the connection has our listen port, else C-GET; `c-get` / `c-move` choose. */
export const PacsProtocol = z.enum(['dicomweb', 'dimse', 'c-get', 'c-move']);

/** A connection as the renderer sees it: where it points and where its secret comes from, never the secret. */
export const PacsConnectionInfo = z.object({
  name: z.string(),
  /** One line, secret-free (core/pacs/connection.ts describeConnection). */
  description: z.string(),
  dicomweb: z
    .object({
      url: z.string(),
      auth: z.enum(['basic', 'bearer', 'none']),
      user: z.string().optional(),
      /** "from $VAR" or "kept by <protector>"; absent without a password or token. */
      secret: z.string().optional(),
    })
    .optional(),
  dimse: z.object({ aet: z.string(), host: z.string(), port: z.number().int(), callingAet: z.string(), listenPort: z.number().int().optional() }).optional(),
  updatedAt: z.string(),
});

/**
 * A new connection. Basic auth is a user and a password, Bearer a token; either secret is the name of
 * an environment variable (read at each request) or, in the desktop app, a value handed to the OS
 * keychain protector; it is never stored in clear or sent back.
 */
export const PacsAddRequest = z.object({
  name: Name,
  dicomweb: z
    .object({
      url: z.url({ protocol: /^https?$/, error: 'a DICOMweb URL starts with http:// or https://, such as http://pacs:8042/dicom-web' }),
      user: z.string().trim().min(1).max(200).optional(),
      passwordEnv: EnvName.optional(),
      password: z.string().min(1).max(1000).optional(),
      tokenEnv: EnvName.optional(),
      token: z.string().min(1).max(8000).optional(),
    })
    .optional(),
  dimse: z.object({ aet: AeTitle, host: z.string().trim().min(1).max(255), port: Port, callingAet: AeTitle.default('MEDTUNE'), listenPort: Port.optional() }).optional(),
});

export const PacsQuery = z.object({
  patientId: z.string().trim().max(64).optional(),
  patientName: z.string().trim().max(200).optional(),
  dateFrom: Date8.optional(),
  dateTo: Date8.optional(),
  modality: z.string().trim().max(16).optional(),
  accessionNumber: z.string().trim().max(64).optional(),
  studyDescription: z.string().trim().max(200).optional(),
  limit: z.number().int().positive().max(1000).default(200),
});

export const PacsStudy = z.object({
  studyUid: z.string(),
  patientId: z.string().optional(),
  patientName: z.string().optional(),
  studyDate: z.string().optional(),
  accessionNumber: z.string().optional(),
  description: z.string().optional(),
  modalities: z.array(z.string()),
  seriesCount: z.number().int().optional(),
  instanceCount: z.number().int().optional(),
});

export const PacsSeries = z.object({
  studyUid: z.string(),
  seriesUid: z.string(),
  modality: z.string().optional(),
  seriesNumber: z.number().optional(),
  description: z.string().optional(),
  instanceCount: z.number().int().optional(),
});

export const PacsRetrieveReport = z.object({
  listed: z.number().int(),
  present: z.number().int(),
  fetched: z.number().int(),
  imported: z.number().int(),
  duplicates: z.number().int(),
  skipped: z.number().int(),
  /** Fetched but refused by the importer's checks (kept as quarantined cases, named in failures). */
  quarantined: z.number().int(),
  failed: z.number().int(),
  failures: z.array(z.object({ file: z.string(), reason: z.string(), code: z.string() })),
  cancelled: z.boolean(),
  /** Why the transfer stopped early; running it again resumes. */
  interrupted: z.string().optional(),
  caseCount: z.number().int(),
});

export const PacsProgress = z.object({
  connection: z.string(),
  /** listing / fetching / done: a retrieve; sending: reports going back (done = reports sent). */
  phase: z.enum(['listing', 'fetching', 'done', 'sending']),
  done: z.number().int(),
  total: z.number().int(),
  current: z.string().optional(),
});

const Target = { connection: Name, protocol: PacsProtocol.optional() };

export const pacsContract = {
  'pacs.list': { request: Empty, response: z.array(PacsConnectionInfo) },
  'pacs.add': { request: PacsAddRequest, response: PacsConnectionInfo },
  'pacs.remove': { request: z.object({ name: Name }), response: z.object({ removed: z.boolean() }) },
  /** DICOMweb request or C-ECHO; `message` is the result line the panel shows. */
  'pacs.echo': { request: z.object(Target), response: z.object({ protocol: PacsProtocol, ms: z.number(), message: z.string() }) },
  'pacs.query': { request: z.object({ ...Target, query: PacsQuery }), response: z.array(PacsStudy) },
  'pacs.series': { request: z.object({ ...Target, studyUid: Uid }), response: z.array(PacsSeries) },
  'pacs.retrieve': {
    request: z.object({
      ...Target,
      targets: z
        .array(z.object({ studyUid: Uid, seriesUid: Uid.optional() }))
        .min(1, 'choose at least one study or series')
        .max(1000),
      concurrency: z.number().int().positive().max(16).default(4),
    }),
    response: PacsRetrieveReport,
  },
  'pacs.cancel': { request: Empty, response: z.object({ cancelled: z.boolean() }) },
  /**
   * Sends a task's labels back as one Basic Text SR per study, for the cases retrieved through this
   * connection (only those of `studyUids` when given); `message` is the result line the panel shows.
   */
  'pacs.send': {
    request: z.object({ ...Target, taskId: z.number().int().positive(), studyUids: z.array(Uid).min(1).max(1000).optional() }),
    response: z.object({ studies: z.number().int(), cases: z.number().int(), reports: z.array(z.string()), message: z.string() }),
  },
};

export const pacsEvents = {
  'pacs.progress': PacsProgress,
};

export type PacsConnectionInfoT = z.output<typeof PacsConnectionInfo>;
export type PacsStudyT = z.output<typeof PacsStudy>;
export type PacsSeriesT = z.output<typeof PacsSeries>;
export type PacsProgressT = z.output<typeof PacsProgress>;
export type PacsRetrieveReportT = z.output<typeof PacsRetrieveReport>;
export type PacsQueryT = z.input<typeof PacsQuery>;
