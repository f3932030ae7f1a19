import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { AppInfoT, WorkspaceInfoT } from '../../../core/api/contract';
import { call, useGuardedActions } from './api';

/** The open workspace and the application's identity. */
export const useWorkspaceStore = defineStore('workspace', () => {
  const info = ref<WorkspaceInfoT | null>(null);
  const app = ref<AppInfoT | null>(null);
  const { busy, error, guard: run } = useGuardedActions();
  let subscribed = false;

  async function init(): Promise<void> {
    if (!subscribed) {
      window.medtune.on('workspace.changed', (payload) => {
        info.value = payload;
      });
      subscribed = true;
    }
    await run(async () => {
      app.value = await call('app.info', {});
      info.value = await call('workspace.current', {});
    });
  }

  const create = (dir: string, name?: string) =>
    run(async () => {
      info.value = await call('workspace.create', { dir, ...(name ? { name } : {}) });
    });

  const open = (dir: string) =>
    run(async () => {
      info.value = await call('workspace.open', { dir });
    });

  const close = () =>
    run(async () => {
      await call('workspace.close', {});
      info.value = null;
    });

  return { info, app, busy, error, init, create, open, close };
});
