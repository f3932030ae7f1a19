import { defineStore } from 'pinia';
import { ref } from 'vue';

/** Which screen is up and whether the help overlay shows. */
export const useUiStore = defineStore('ui', () => {
  const mode = ref<'reading' | 'settings' | 'training'>('reading');
  const helpOpen = ref(false);
  /** The help overlay is waiting for the key to bind to an action: the global shortcuts hold still. */
  const recordingKey = ref(false);
  return { mode, helpOpen, recordingKey };
});
