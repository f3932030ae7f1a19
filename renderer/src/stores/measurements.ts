import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { MeasurementKindT, MeasurementT } from '../../../core/api/contract';
import { angleDegrees, distance, roiStats, type Point } from '../../../core/imaging/measure';
import { call, friendlyMessage } from './api';
import { useTagsStore } from './tags';
import { useViewerStore } from './viewer';

/** A measurement with what it measures, ready to show: "12.3 mm", "47.1°", "mean 40.2 HU, sd 3.1 …". */
export interface ShownMeasurement extends MeasurementT {
  text: string;
  /** How the value was obtained ("Pixel Spacing", "Imager Pixel Spacing", "no pixel spacing: pixels"). */
  basis: string;
}

const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '—');
const asPoint = ([x, y]: [number, number]): Point => ({ x, y });

/** The reader's measurements of the case on screen: stored per case in the workspace, values recomputed here. */
export const useMeasurementsStore = defineStore('measurements', () => {
  const viewer = useViewerStore();
  const tags = useTagsStore();
  const caseId = ref<number | null>(null);
  const items = ref<MeasurementT[]>([]);
  const error = ref<string | null>(null);

  async function load(id: number): Promise<void> {
    caseId.value = id;
    items.value = [];
    error.value = null;
    try {
      const list = await call('measurements.list', { caseId: id });
      if (caseId.value === id) items.value = list;
    } catch (err) {
      if (caseId.value === id) error.value = friendlyMessage(err);
    }
  }

  async function add(kind: MeasurementKindT, points: [number, number][]): Promise<void> {
    // The slice on screen: in a series stack it is not always the case opened from the worklist.
    const id = viewer.image?.caseId ?? viewer.caseId;
    if (id === null) return;
    try {
      const saved = await call('measurements.add', { caseId: id, frame: viewer.frame, kind, points });
      if (caseId.value === id) items.value = [...items.value, saved];
      error.value = null;
    } catch (err) {
      error.value = friendlyMessage(err);
    }
  }

  async function remove(measurementId: number): Promise<void> {
    try {
      await call('measurements.delete', { id: measurementId });
      items.value = items.value.filter((m) => m.id !== measurementId);
    } catch (err) {
      error.value = friendlyMessage(err);
    }
  }

  const removeLast = () => {
    const last = items.value[items.value.length - 1];
    return last ? remove(last.id) : Promise.resolve();
  };

  /** Text for one measurement from the image's pixels and spacing (kept out of the store: it cannot go stale). */
  function describe(m: Pick<MeasurementT, 'kind' | 'points' | 'frame'>): { text: string; basis: string } {
    const spacing = tags.spacing;
    const basis = spacing ? (spacing.source === 'PixelSpacing' ? 'Pixel Spacing' : 'Imager Pixel Spacing') : 'no pixel spacing: pixels';
    const [a, b, c] = m.points.map(asPoint);
    if (m.kind === 'length') {
      const d = distance(a, b, spacing);
      return { text: `${fmt(d.value, 2)} ${d.unit}`, basis };
    }
    if (m.kind === 'angle') return { text: c ? `${fmt(angleDegrees(a, b, c, spacing))}°` : '…', basis: 'degrees' };
    const image = viewer.decoded;
    if (!image || !viewer.grey || m.frame >= image.frames.length) {
      return { text: 'statistics need a greyscale image', basis };
    }
    const s = roiStats(image, m.frame, m.kind, a, b, spacing);
    const unit = s.unit ? ` ${s.unit}` : '';
    return {
      text: `mean ${fmt(s.mean)}${unit} · sd ${fmt(s.stdDev)} · min ${fmt(s.min, 0)} · max ${fmt(s.max, 0)} · area ${fmt(s.area, s.areaUnit === 'mm²' ? 1 : 0)} ${s.areaUnit}`,
      basis,
    };
  }

  const shown = computed<ShownMeasurement[]>(() => items.value.map((m) => ({ ...m, ...describe(m) })));

  function reset(): void {
    caseId.value = null;
    items.value = [];
    error.value = null;
  }

  return { caseId, items, error, shown, load, add, remove, removeLast, describe, reset };
});
