import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { FolderListingT, RecentWorkspaceT } from '../../../core/api/contract';
import { call, friendlyMessage, useGuardedActions } from './api';

/** Browser mode's server-side folder picker (limited to the allowed roots) and the recent workspaces. */
export const useFoldersStore = defineStore('folders', () => {
  const listing = ref<FolderListingT | null>(null);
  const recent = ref<RecentWorkspaceT[]>([]);
  const { busy, error, guard } = useGuardedActions();

  const browse = (dir?: string, files = false) =>
    guard(async () => {
      listing.value = await call('files.browse', { ...(dir ? { dir } : {}), files });
    });

  async function loadRecent(): Promise<void> {
    try {
      recent.value = await call('workspace.recent', {});
    } catch (err) {
      error.value = friendlyMessage(err);
    }
  }

  return { listing, recent, busy, error, browse, loadRecent };
});
