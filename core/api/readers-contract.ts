import { z } from 'zod';
import { CASE_STATES, READER_ROLES } from '../vocabulary';

/**
 * The several-readers half of the contract (issue 18, docs/readers.md): reader profiles and the
 * session's current reader, blind reads of a case, a reviewer's decisions, and agreement tables.
 * core/app/reader-handlers.ts maps it onto core/store's ReaderService, ReadService and agreement report.
 */

const Empty = z.object({}).strict();
const Id = z.number().int().positive();
const ReaderName = z.string().trim().min(1, 'a reader needs a name').max(64);
const Pin = z.string().regex(/^\d{4,12}$/, 'a PIN is 4 to 12 digits');
const Value = z.union([z.string(), z.array(z.string()), z.object({ maskSha256: z.string(), rows: z.number().int(), columns: z.number().int() })]);

export const ReaderRole = z.enum(READER_ROLES);
export const CaseState = z.enum(CASE_STATES);

export const ReaderProfile = z.object({ id: Id, name: z.string(), role: ReaderRole, hasPin: z.boolean(), createdAt: z.string() });
export const ReadersState = z.object({ current: ReaderProfile, readers: z.array(ReaderProfile) });

export const CaseRead = z.object({ reader: z.string(), kind: z.enum(['first', 'repeat']), value: Value, valueText: z.string().nullable(), createdAt: z.string() });

/** A case as the current reader may see it: the others' reads stay null until this reader has submitted theirs. */
export const ReadView = z.object({
  taskId: Id,
  caseId: Id,
  readsPerCase: z.number().int().positive(),
  state: CaseState,
  readCount: z.number().int().nonnegative(),
  myRead: CaseRead.optional(),
  repeatPending: z.boolean(),
  /** A repeat is scheduled but not yet due: the case stays blind to this reader meanwhile. */
  repeatLater: z.boolean(),
  others: z.array(CaseRead).nullable(),
  modelVisible: z.boolean(),
  /** May the current reader adjudicate, accept or reject (reviewer or admin)? */
  canReview: z.boolean(),
  /** The case's state changes, oldest first (shown once the reads are visible). */
  history: z.array(z.object({ from: CaseState, to: CaseState, actor: z.string(), note: z.string().optional(), createdAt: z.string() })),
});

/** A statistic with its 95 % bootstrap interval; null where the cases do not define it. */
const Stat = z.object({ value: z.number().nullable(), lo: z.number().nullable(), hi: z.number().nullable(), n: z.number().int().nonnegative() });
export const PairAgreement = z.object({
  a: z.string(),
  b: z.string(),
  n: z.number().int().nonnegative(),
  /** Class tasks. */
  kappa: Stat.optional(),
  percent: Stat.optional(),
  /** Segmentation tasks: mean Dice over the cases both painted. */
  dice: Stat.optional(),
  perClass: z.array(z.object({ className: z.string(), kappa: Stat.optional(), percent: Stat.optional(), dice: Stat.optional() })),
});
export const AgreementReport = z.object({
  taskId: Id,
  taskName: z.string(),
  classes: z.array(z.string()),
  /** Kappa and agreement (class tasks) or Dice (masks). */
  measure: z.enum(['kappa', 'dice']),
  weights: z.enum(['none', 'quadratic']),
  readers: z.array(z.string()),
  pairs: z.array(PairAgreement),
  fleiss: z.object({ n: z.number().int().nonnegative(), kappa: Stat, percent: Stat, perClass: z.array(z.object({ className: z.string(), kappa: Stat })) }).optional(),
  model: z.object({ versionId: Id, pairs: z.array(PairAgreement) }).optional(),
  intra: z.array(PairAgreement),
  /** Cases per review state. */
  states: z.record(z.string(), z.number().int().nonnegative()),
});

const ReadTarget = { taskId: Id, caseId: Id };
const Decision = z.object({ ...ReadTarget, note: z.string().trim().max(2000).optional() });

export const readersContract = {
  'readers.list': { request: Empty, response: ReadersState },
  /** Admins only. */
  'readers.add': { request: z.object({ name: ReaderName, role: ReaderRole.default('reader'), pin: Pin.optional() }), response: ReadersState },
  /** Makes the profile the session's reader (its PIN when it has one): what every label, read, measurement and comment records. */
  'readers.switch': { request: z.object({ name: ReaderName, pin: z.string().max(12).optional() }), response: ReadersState },
  'reads.get': { request: z.object(ReadTarget), response: ReadView },
  'reads.adjudicate': { request: Decision.extend({ value: Value }), response: ReadView },
  'reads.accept': { request: Decision, response: ReadView },
  'reads.reject': { request: Decision, response: ReadView },
  'agreement.get': { request: z.object({ taskId: Id }), response: AgreementReport },
};

export type ReaderProfileT = z.output<typeof ReaderProfile>;
export type ReadersStateT = z.output<typeof ReadersState>;
export type ReadViewT = z.output<typeof ReadView>;
export type AgreementReportT = z.output<typeof AgreementReport>;
export type PairAgreementT = z.output<typeof PairAgreement>;
