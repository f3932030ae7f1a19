import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef } from 'vue';
import type { WorklistGroupsT, WorklistSeriesGroupT } from '../../../core/api/contract';
import { call, friendlyMessage } from './api';
import { useCasesStore } from './cases';
import { useTasksStore } from './tasks';

const STORAGE_KEY = 'medtune.worklist.groupByStudy';

/** One line of the grouped worklist as shown: a patient, a study or a series (with the case it opens). */
export type GroupRow =
  | { type: 'patient'; key: string; label: string; count: number; collapsed: boolean }
  | { type: 'study'; key: string; label: string; count: number; collapsed: boolean }
  | { type: 'series'; key: string; label: string; series: WorklistSeriesGroupT; caseId: number; seriesIndex: number };

const count = (series: WorklistSeriesGroupT[]) => series.reduce((n, s) => n + s.caseIds.length, 0);
const formatDate = (d?: string) => (d && /^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}` : (d ?? 'no date'));

/**
 * The worklist grouped patient → study → series (the "Group by study" toggle): the same filter, search and sort as the
 * flat list, collapsible groups with counts, and a selected series that n/p/Enter move through. A series opens at
 * its middle case; the viewer then scrolls the whole series.
 */
export const useWorklistGroupsStore = defineStore('worklistGroups', () => {
  const enabled = ref(localStorage.getItem(STORAGE_KEY) === '1');
  const data = shallowRef<WorklistGroupsT | null>(null);
  const error = ref<string | null>(null);
  const collapsed = reactive(new Set<string>());
  /** Key of the selected series row. */
  const selectedKey = ref<string | null>(null);
  let generation = 0;

  const rows = computed<GroupRow[]>(() => {
    const out: GroupRow[] = [];
    let seriesIndex = 0;
    for (const [p, patient] of (data.value?.patients ?? []).entries()) {
      const pKey = `p${p}:${patient.patientId ?? ''}`;
      const pCount = patient.studies.reduce((n, s) => n + count(s.series), 0);
      const name = patient.patientName?.replace(/\^+/g, ' ').trim() || 'No name';
      out.push({ type: 'patient', key: pKey, label: `${name} · ${patient.patientId ?? 'no ID'}`, count: pCount, collapsed: collapsed.has(pKey) });
      for (const study of patient.studies) {
        const sKey = `s:${study.studyUid}`;
        if (!collapsed.has(pKey)) {
          out.push({ type: 'study', key: sKey, label: [formatDate(study.studyDate), study.description].filter(Boolean).join(' · '), count: count(study.series), collapsed: collapsed.has(sKey) });
        }
        for (const series of study.series) {
          const visible = !collapsed.has(pKey) && !collapsed.has(sKey);
          const label = [series.modality, series.seriesNumber !== undefined ? `series ${series.seriesNumber}` : 'series', series.description].filter(Boolean).join(' ');
          const caseId = series.caseIds[Math.floor(series.caseIds.length / 2)];
          if (visible) out.push({ type: 'series', key: `se:${series.seriesUid}`, label, series, caseId, seriesIndex });
          seriesIndex++;
        }
      }
    }
    return out;
  });
  const seriesRows = computed(() => rows.value.filter((r): r is Extract<GroupRow, { type: 'series' }> => r.type === 'series'));

  async function load(): Promise<void> {
    const cases = useCasesStore();
    const gen = ++generation;
    try {
      const search = cases.search.trim();
      const next = await call('worklist.groups', { filter: cases.filter, sort: cases.sort, ...useTasksStore().taskParam, ...(search ? { search } : {}) });
      if (gen !== generation) return;
      data.value = next;
      error.value = null;
    } catch (err) {
      if (gen === generation) error.value = friendlyMessage(err);
    }
  }

  function setEnabled(on: boolean): void {
    enabled.value = on;
    localStorage.setItem(STORAGE_KEY, on ? '1' : '0');
    if (on) void load();
  }

  function toggle(key: string): void {
    if (collapsed.has(key)) collapsed.delete(key);
    else collapsed.add(key);
  }

  /** The series row `delta` rows from the selected one among those shown (the first when none is selected). */
  function neighbour(delta: number): Extract<GroupRow, { type: 'series' }> | undefined {
    const list = seriesRows.value;
    const at = list.findIndex((r) => r.key === selectedKey.value);
    return at < 0 ? list[0] : list[at + delta];
  }

  function reset(): void {
    generation++;
    data.value = null;
    selectedKey.value = null;
    collapsed.clear();
  }

  return { enabled, data, error, rows, seriesRows, selectedKey, load, setEnabled, toggle, neighbour, reset };
});
