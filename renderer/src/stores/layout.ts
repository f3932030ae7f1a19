import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { HangingRuleT } from '../../../core/api/contract';
import { call, friendlyMessage } from './api';
import { useCasesStore } from './cases';
import { useLabelsStore } from './labels';
import { useViewerStore } from './viewer';

export type Layout = '1x1' | '1x2' | '2x2';
export const LAYOUTS: { id: Layout; cells: number; name: string }[] = [
  { id: '1x1', cells: 1, name: '1×1' },
  { id: '1x2', cells: 2, name: '1×2' },
  { id: '2x2', cells: 4, name: '2×2' },
];

/**
 * Side-by-side viewports. One is active: it holds the full viewer (tools, keys, measurements) and its case is the
 * one labels go to; the others show their case and become active on a click. A hanging rule fills the viewport
 * beside the active one: fundus, the other eye of the same visit; radiology, the latest prior study of the patient.
 * Remaining viewports show the next cases of the worklist. Zoom and pan can follow the active viewport.
 */
export const useLayoutStore = defineStore('layout', () => {
  const layout = ref<Layout>('1x1');
  const sync = ref(true);
  const rule = ref<HangingRuleT | 'none'>('none');
  /** Case per viewport; the active one mirrors the viewer's case. */
  const cells = ref<(number | null)[]>([null]);
  const active = ref(0);
  /** What the hanging rule found (or why it found nothing), for the layout bar. */
  const hangingNote = ref('');
  let generation = 0;

  const cellCount = computed(() => LAYOUTS.find((l) => l.id === layout.value)!.cells);
  /** The viewport beside the active one in its row: where the hanging rule's partner goes. */
  const partnerCell = computed(() => (active.value % 2 === 0 ? active.value + 1 : active.value - 1));

  /** Fills the viewports around the active one for the viewer's case. */
  async function hang(): Promise<void> {
    const viewer = useViewerStore();
    const cases = useCasesStore();
    const gen = ++generation;
    const n = cellCount.value;
    const id = viewer.caseId;
    const next: (number | null)[] = Array.from({ length: n }, () => null);
    let at = Math.min(active.value, n - 1);
    const fill: number[] = [];
    hangingNote.value = '';
    if (id !== null && n > 1 && rule.value !== 'none') {
      try {
        const partner = await call('cases.hanging', { id, rule: rule.value });
        if (gen !== generation) return;
        hangingNote.value = partner.reason;
        if (partner.caseId !== null) {
          fill.push(partner.caseId);
          // The pair shares a row, the partner on its side (OD | OS for fundus, whichever eye was opened).
          if (partner.partnerSide) at = Math.floor(at / 2) * 2 + (partner.partnerSide === 'left' ? 1 : 0);
        }
      } catch (err) {
        if (gen !== generation) return;
        hangingNote.value = friendlyMessage(err);
      }
    }
    // The rest: the cases after the selected one in the worklist.
    for (let k = 1; fill.length < n - 1 && cases.selectedIndex >= 0 && cases.selectedIndex + k < cases.total; k++) {
      await cases.ensure(cases.selectedIndex + k, cases.selectedIndex + k);
      const row = cases.rowAt(cases.selectedIndex + k);
      if (row && row.id !== id && !fill.includes(row.id)) fill.push(row.id);
    }
    if (gen !== generation) return;
    next[at] = id;
    // The partner (first in `fill`) goes beside the active viewport in its row; the worklist's next cases fill the rest.
    const beside = at % 2 === 0 ? at + 1 : at - 1;
    const order = [beside, ...Array.from({ length: n }, (_, i) => i).filter((i) => i !== at && i !== beside)];
    order.forEach((cell, f) => (next[cell] = fill[f] ?? null));
    active.value = at;
    cells.value = next;
  }

  /** Makes viewport `index` active: the viewer (and the label bar) move to its case. */
  async function activate(index: number): Promise<void> {
    const id = cells.value[index];
    if (index === active.value || id === null || id === undefined) return;
    generation++;
    active.value = index;
    const labels = useLabelsStore();
    labels.notice = null;
    void labels.load(id);
    await useViewerStore().open(id);
  }

  function setLayout(next: Layout): void {
    layout.value = next;
    active.value = 0;
    void hang();
  }
  function setRule(next: HangingRuleT | 'none'): void {
    rule.value = next;
    // A hanging rule needs a second viewport.
    if (next !== 'none' && layout.value === '1x1') layout.value = '1x2';
    void hang();
  }

  // A case opened from the worklist re-hangs the viewports; one opened by activating a viewport keeps them.
  watch(
    () => useViewerStore().caseId,
    (id) => {
      if (id !== null && cells.value[active.value] !== id) void hang();
    },
  );

  function reset(): void {
    generation++;
    cells.value = Array.from({ length: cellCount.value }, () => null);
    active.value = 0;
    hangingNote.value = '';
  }

  return { layout, sync, rule, cells, active, hangingNote, cellCount, partnerCell, hang, activate, setLayout, setRule, reset };
});
