import { defineStore } from 'pinia';
import { ref } from 'vue';

/** Which screen is up and whether the help overlay shows. */
export const useUiStore = defineStore('ui', () => {
  const mode = ref<'reading' | 'settings' | 'training'>('reading');
  const helpOpen = ref(false);
  return { mode, helpOpen };
});
