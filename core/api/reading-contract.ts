import { z } from 'zod';
import { CASE_FILTERS, CASE_SORTS, CASE_UNITS } from '../vocabulary';

/**
 * The reading half of the contract: a case's series as one stack of slices (with the study's other series and
 * the case a series task gives the model), the worklist grouped by patient → study → series, and the partner
 * case a hanging rule puts beside the one on screen. core/app/reading-handlers.ts answers them.
 */

const Id = z.number().int().positive();

export const StackSlice = z.object({
  caseId: Id,
  instanceNumber: z.number().int().optional(),
  /** Millimetres along the slice normal (when sorted by position). */
  position: z.number().optional(),
});

export const SeriesStack = z.object({
  caseId: Id,
  seriesUid: z.string(),
  seriesNumber: z.number().int().optional(),
  description: z.string().optional(),
  modality: z.string().optional(),
  /** Slices in reading order; a single-image series has one. */
  slices: z.array(StackSlice),
  /** Where the asked-for case is in `slices`. */
  index: z.number().int().nonnegative(),
  sortedBy: z.enum(['position', 'instance-number', 'import-order']),
  /** Series and study tasks: the case that carries the label and is the model's input, and how it is chosen. */
  modelInput: z.object({ caseId: Id, unit: z.enum(CASE_UNITS), rule: z.string() }).nullable(),
  /** The study's series in series-number order (PgUp/PgDn), each with the case to open for it. */
  study: z.array(
    z.object({
      seriesUid: z.string(),
      seriesNumber: z.number().int().optional(),
      description: z.string().optional(),
      modality: z.string().optional(),
      count: z.number().int().nonnegative(),
      caseId: Id,
    }),
  ),
  seriesIndex: z.number().int().nonnegative(),
});

export const WorklistSeriesGroup = z.object({
  seriesUid: z.string(),
  seriesNumber: z.number().int().optional(),
  description: z.string().optional(),
  modality: z.string().optional(),
  /** The worklist's cases of this series (filter and search applied), by instance number. */
  caseIds: z.array(Id),
  labelled: z.number().int().nonnegative(),
});
export const WorklistStudyGroup = z.object({
  studyUid: z.string(),
  studyDate: z.string().optional(),
  description: z.string().optional(),
  series: z.array(WorklistSeriesGroup),
});
export const WorklistPatientGroup = z.object({
  patientId: z.string().optional(),
  patientName: z.string().optional(),
  studies: z.array(WorklistStudyGroup),
});

export const WorklistGroups = z.object({
  /** Cases in all groups together. */
  total: z.number().int().nonnegative(),
  patients: z.array(WorklistPatientGroup),
  /** True when the groups stop at the limit (the flat list still has every case). */
  truncated: z.boolean(),
});

export const HangingRule = z.enum(['fundus', 'prior']);

export const readingContract = {
  'series.stack': { request: z.object({ id: Id, taskId: Id.optional() }), response: SeriesStack },
  'worklist.groups': {
    request: z.object({
      filter: z.enum(CASE_FILTERS).default('all'),
      search: z.string().max(200).optional(),
      /** As the flat list's: 'rank' and 'uncertainty' put the groups holding the cases worth reading first. */
      sort: z.enum(CASE_SORTS).default('imported'),
      taskId: z.number().int().optional(),
    }),
    response: WorklistGroups,
  },
  'cases.hanging': {
    request: z.object({ id: Id, rule: HangingRule }),
    response: z.object({ caseId: Id.nullable(), reason: z.string(), partnerSide: z.enum(['left', 'right']).optional() }),
  },
};

export type SeriesStackT = z.output<typeof SeriesStack>;
export type WorklistGroupsT = z.output<typeof WorklistGroups>;
export type WorklistSeriesGroupT = z.output<typeof WorklistSeriesGroup>;
export type HangingRuleT = z.output<typeof HangingRule>;
