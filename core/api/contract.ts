import { z } from 'zod';
import type { ChannelName, EventName } from './names';
import type { Result } from './errors';

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
});

export const WorkspaceInfo = z.object({
  dir: z.string(),
  name: z.string(),
  schemaVersion: z.number().int(),
  caseCount: z.number().int().nonnegative(),
  createdAt: z.string(),
});

const absoluteishPath = z.string().trim().min(1, 'a folder path is required').max(4096);

export const CaseFilter = z.enum(['all', 'unlabeled', 'labeled', 'suggested', 'disagree', 'quarantined']);
export const CaseSort = z.enum(['imported', 'rank', 'uncertainty']);

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
  suggestionRank: z.number().int().optional(),
  importedAt: z.string(),
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
} satisfies Record<ChannelName, { request: z.ZodType; response: z.ZodType }>;

export const events = {
  'workspace.changed': WorkspaceInfo.nullable(),
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

/**
 * The API the renderer sees as `window.medtune`, identical over both transports.
 * `invoke` never rejects for expected failures: it resolves to a Result with a code and message.
 */
export interface MedtuneApi {
  invoke<C extends ChannelName>(channel: C, request: RequestOf<C>): Promise<Result<ResponseOf<C>>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
}
