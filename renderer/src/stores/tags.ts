import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { DicomTagsT } from '../../../core/api/contract';
import { chooseSpacing, type Spacing } from '../../../core/imaging/measure';
import { call, friendlyMessage } from './api';

/** The DICOM elements of the case on screen (tag browser) and the pixel spacing measurements use. */
export const useTagsStore = defineStore('tags', () => {
  const caseId = ref<number | null>(null);
  const tags = shallowRef<DicomTagsT | null>(null);
  const error = ref<string | null>(null);
  const open = ref(false);
  let pending: Promise<void> | null = null;

  /** Loads the elements of a case once; later calls for the same case wait for the same answer. */
  function load(id: number): Promise<void> {
    if (caseId.value === id && pending) return pending;
    caseId.value = id;
    tags.value = null;
    error.value = null;
    pending = (async () => {
      try {
        const answer = await call('cases.tags', { id });
        if (caseId.value === id) tags.value = answer;
      } catch (err) {
        if (caseId.value === id) error.value = friendlyMessage(err);
      }
    })();
    return pending;
  }

  /** Pixel Spacing, else Imager Pixel Spacing, else none (measurements then stay in pixels). */
  const spacing = computed<Spacing | undefined>(() => chooseSpacing(tags.value?.pixelSpacing, tags.value?.imagerPixelSpacing));

  function reset(): void {
    caseId.value = null;
    tags.value = null;
    error.value = null;
    pending = null;
    open.value = false;
  }

  return { caseId, tags, error, open, spacing, load, reset };
});
