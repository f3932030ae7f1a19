import type { Database } from 'better-sqlite3';
import type { BlobStore } from './blobs';
import { WorkspaceError } from './errors';
import { normaliseCaseUnit, normaliseScope, taskCaseCondition, type CaseUnit } from './scope';

/**
 * Cases seen as DICOM series and studies: the instances of a case's series (the viewer's stack), the series of
 * its study (PgUp/PgDn), the case a series or study task gives the model, and the hanging partners (the other
 * eye of the same visit, the latest prior study of the same patient).
 */

export interface SeriesMember {
  caseId: number;
  instanceNumber?: number;
  frameCount: number;
  /** Where the file's bytes are (to read slice positions from its header). */
  blobPath: string;
}

export interface SeriesOfStudy {
  seriesUid: string;
  seriesNumber?: number;
  description?: string;
  modality?: string;
  /** Cases of the series that are not quarantined. */
  count: number;
  /** The case to open for the series: its middle case by instance number. */
  caseId: number;
}

export interface CaseSeries {
  seriesUid: string;
  seriesNumber?: number;
  description?: string;
  modality?: string;
  studyUid: string;
  /**
   * The series' cases (not quarantined, plus the asked-for case itself), by instance number then case id. Photos are
   * no stack: a folder of photos is one "series" only for bookkeeping, so a photo's series is the photo alone.
   */
  members: SeriesMember[];
  /** The series of the study in series-number order, this one included. */
  study: SeriesOfStudy[];
}

/** What a series or study task gives the model for this case's group, when the task is not per image. */
export interface ModelInputCase {
  caseId: number;
  unit: Exclude<CaseUnit, 'image'>;
  rule: string;
}

export type HangingRule = 'fundus' | 'prior';

export interface HangingPartner {
  caseId: number | null;
  /** What was looked for and what was found (or why nothing was). */
  reason: string;
  /**
   * Which side of the active viewport the partner hangs on: fundus keeps OD (right eye) on the left and OS on the
   * right whichever eye was opened, as the rule's name "OD | OS" says; a prior hangs right of the current study.
   */
  partnerSide?: 'left' | 'right';
}

const NOT_QUARANTINED = 'c.id NOT IN (SELECT case_id FROM quarantine WHERE case_id IS NOT NULL)';
const JOINS = 'JOIN instances i ON i.id = c.instance_ref JOIN series se ON se.id = i.series_ref JOIN studies st ON st.id = se.study_ref';
const middle = <T>(list: T[]): T => list[Math.floor(list.length / 2)];
const present = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

export class SeriesService {
  constructor(
    private readonly db: Database,
    private readonly blobs: BlobStore,
  ) {}

  /** The case's series and the other series of its study. */
  ofCase(caseId: number): CaseSeries {
    const head = this.db
      .prepare(
        `SELECT se.id AS seriesRef, se.series_uid AS seriesUid, se.series_number AS seriesNumber, se.description,
           se.modality, st.id AS studyRef, st.study_uid AS studyUid
         FROM cases c ${JOINS} WHERE c.id = ?`,
      )
      .get(caseId) as
      | { seriesRef: number; seriesUid: string; seriesNumber: number | null; description: string | null; modality: string | null; studyRef: number; studyUid: string }
      | undefined;
    if (!head) throw new WorkspaceError('not-found', `No case with id ${caseId}`);
    const members = (
      this.db
        .prepare(
          `SELECT c.id AS caseId, i.instance_number AS instanceNumber, c.frame_count AS frameCount, c.blob_sha256 AS sha
           FROM cases c JOIN instances i ON i.id = c.instance_ref
           WHERE i.series_ref = @series AND ((c.kind = 'dicom' AND ${NOT_QUARANTINED}) OR c.id = @id)
           ORDER BY i.instance_number IS NULL, i.instance_number, c.id`,
        )
        .all({ series: head.seriesRef, id: caseId }) as { caseId: number; instanceNumber: number | null; frameCount: number; sha: string }[]
    ).map((m) => ({ caseId: m.caseId, instanceNumber: present(m.instanceNumber), frameCount: m.frameCount, blobPath: this.blobs.locate(m.sha) }));
    return {
      seriesUid: head.seriesUid,
      seriesNumber: present(head.seriesNumber),
      description: present(head.description) || undefined,
      modality: present(head.modality) || undefined,
      studyUid: head.studyUid,
      members,
      study: this.seriesOfStudy(head.studyRef),
    };
  }

  private seriesOfStudy(studyRef: number): SeriesOfStudy[] {
    const rows = this.db
      .prepare(
        `SELECT se.series_uid AS seriesUid, se.series_number AS seriesNumber, se.description, se.modality, c.id AS caseId
         FROM cases c ${JOINS} WHERE se.study_ref = ? AND ${NOT_QUARANTINED}
         ORDER BY se.series_number IS NULL, se.series_number, se.id, i.instance_number IS NULL, i.instance_number, c.id`,
      )
      .all(studyRef) as { seriesUid: string; seriesNumber: number | null; description: string | null; modality: string | null; caseId: number }[];
    const out: (SeriesOfStudy & { ids: number[] })[] = [];
    for (const r of rows) {
      let last = out[out.length - 1];
      if (!last || last.seriesUid !== r.seriesUid) {
        last = { seriesUid: r.seriesUid, seriesNumber: present(r.seriesNumber), description: r.description || undefined, modality: r.modality || undefined, count: 0, caseId: r.caseId, ids: [] };
        out.push(last);
      }
      last.ids.push(r.caseId);
      last.count++;
    }
    return out.map(({ ids, ...s }) => ({ ...s, caseId: middle(ids) }));
  }

  /**
   * The case a series or study task labels and gives the model for this case's group (the group's representative,
   * core/store/scope.ts: its labelled case, else its middle case by instance number); null for image tasks or
   * when the case is outside the task's scope.
   */
  modelInput(taskId: number, caseId: number): ModelInputCase | null {
    const row = this.db.prepare('SELECT settings FROM tasks WHERE id = ?').get(taskId) as { settings: string } | undefined;
    if (!row) throw new WorkspaceError('not-found', `No label task with id ${taskId}`);
    const settings = JSON.parse(row.settings) as { scope?: unknown; caseUnit?: unknown };
    const unit = normaliseCaseUnit(settings.caseUnit);
    if (unit === 'image') return null;
    const cond = taskCaseCondition(normaliseScope(settings.scope), unit);
    const group = unit === 'series' ? 'i.series_ref' : 'se.study_ref';
    const hit = this.db
      .prepare(
        `SELECT c.id, c.id IN (SELECT case_id FROM current_labels WHERE task_id = @task) AS labelled FROM cases c ${JOINS}
         WHERE ${cond.where} AND ${group} = (SELECT ${group} FROM cases c ${JOINS} WHERE c.id = @id)`,
      )
      .get({ ...cond.params, task: taskId, id: caseId }) as { id: number; labelled: number } | undefined;
    if (!hit) return null;
    const middleOf = unit === 'series' ? 'the middle slice by instance number' : 'the middle image by series, then instance number';
    return { caseId: hit.id, unit, rule: hit.labelled ? 'the case that carries the label' : middleOf };
  }

  /**
   * A hanging partner for side-by-side reading. 'fundus': the other eye (by laterality) of the same patient and
   * visit (same study, else same study date). 'prior': the latest earlier study of the same patient, its series of
   * the same modality when there is one; the partner is that series' middle case.
   */
  hangingPartner(caseId: number, rule: HangingRule): HangingPartner {
    const c = this.db
      .prepare(
        `SELECT c.laterality, st.patient_ref AS patientRef, st.id AS studyRef, st.study_date AS studyDate, st.study_time AS studyTime,
           se.modality FROM cases c ${JOINS} WHERE c.id = ?`,
      )
      .get(caseId) as
      | { laterality: string | null; patientRef: number; studyRef: number; studyDate: string | null; studyTime: string | null; modality: string | null }
      | undefined;
    if (!c) throw new WorkspaceError('not-found', `No case with id ${caseId}`);
    if (rule === 'fundus') {
      if (c.laterality !== 'left' && c.laterality !== 'right') {
        return { caseId: null, reason: 'This image has no left/right laterality, so there is no other eye to hang beside it.' };
      }
      const other = c.laterality === 'left' ? 'right' : 'left';
      const hit = this.db
        .prepare(
          `SELECT c.id FROM cases c ${JOINS}
           WHERE ${NOT_QUARANTINED} AND c.laterality = @other AND st.patient_ref = @patient
             AND (st.id = @study OR (@date IS NOT NULL AND st.study_date = @date))
           ORDER BY st.id = @study DESC, c.id LIMIT 1`,
        )
        .get({ other, patient: c.patientRef, study: c.studyRef, date: c.studyDate }) as { id: number } | undefined;
      const eye = (side: string) => (side === 'right' ? 'OD (right eye)' : 'OS (left eye)');
      return hit
        ? { caseId: hit.id, reason: `${eye(other)} of the same visit beside ${eye(c.laterality)}`, partnerSide: other === 'right' ? 'left' : 'right' }
        : { caseId: null, reason: `No ${eye(other)} image of this patient's visit.` };
    }
    if (!c.studyDate) return { caseId: null, reason: 'This study has no date, so no prior can be chosen.' };
    const prior = this.db
      .prepare(
        `SELECT st.id, st.study_date AS studyDate FROM studies st
         WHERE st.patient_ref = @patient AND st.id <> @study AND st.study_date IS NOT NULL
           AND (st.study_date < @date OR (st.study_date = @date AND ifnull(st.study_time, '') < ifnull(@time, '')))
           AND EXISTS (SELECT 1 FROM cases c JOIN instances i ON i.id = c.instance_ref JOIN series se ON se.id = i.series_ref
             WHERE se.study_ref = st.id AND ${NOT_QUARANTINED})
         ORDER BY st.study_date DESC, ifnull(st.study_time, '') DESC, st.id DESC LIMIT 1`,
      )
      .get({ patient: c.patientRef, study: c.studyRef, date: c.studyDate, time: c.studyTime }) as { id: number; studyDate: string } | undefined;
    if (!prior) return { caseId: null, reason: 'No earlier study of this patient.' };
    const series = this.seriesOfStudy(prior.id);
    const same = series.find((s) => c.modality && s.modality === c.modality) ?? series[0];
    return {
      caseId: same.caseId,
      reason: `Prior study of ${prior.studyDate}${same.modality ? `, ${same.modality}` : ''} series ${same.seriesNumber ?? ''} ${same.description ?? ''}`.trim(),
    };
  }
}
