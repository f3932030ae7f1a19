import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { DesktopCommandT, PathPurposeT } from '../../../core/api/contract';
import { call, friendlyMessage } from './api';
import { useCasesStore } from './cases';
import { parsePaths, useImporterStore } from './importer';
import { useUiStore } from './ui';
import { useViewerStore } from './viewer';
import { useWorkspaceStore } from './workspace';

/** What a drop carries that may name files: File objects and, from file managers, a text/uri-list. */
export interface DroppedItems {
  files: readonly File[];
  uriList: string;
}

export const BROWSER_DROP_MESSAGE =
  'The browser does not reveal where dropped files are stored, so they cannot be imported from here. ' +
  'Drop them onto the import box under Import & task (it uploads them into the workspace), or type the folder path there.';

/**
 * The desktop integration: native dialogs (desktop.choosePaths), the application menu's commands
 * (desktop.command events) and drag-and-drop import. In browser mode the dialogs are absent and the
 * path fields do their job; a drop imports only when it carries file:// URIs.
 */
export const useDesktopStore = defineStore('desktop', () => {
  const workspace = useWorkspaceStore();
  const isDesktop = computed(() => workspace.app?.transport === 'electron');
  /** A friendly message for the whole window (a drop that cannot be imported, a dialog that failed). */
  const message = ref<string | null>(null);
  let subscribed = false;

  function init(): void {
    if (subscribed) return;
    subscribed = true;
    window.medtune.on('desktop.command', ({ command }) => void run(command));
  }

  /** Paths from a native dialog; none when cancelled or when the dialog could not be shown. */
  async function choose(purpose: PathPurposeT): Promise<string[]> {
    try {
      return (await call('desktop.choosePaths', { purpose })).paths;
    } catch (err) {
      message.value = friendlyMessage(err);
      return [];
    }
  }

  async function chooseAndOpenWorkspace(): Promise<void> {
    const [dir] = await choose('workspace-open');
    if (dir) await workspace.open(dir);
  }

  async function chooseAndCreateWorkspace(): Promise<void> {
    const [dir] = await choose('workspace-create');
    if (dir) await workspace.create(dir);
  }

  /** The normal import (progress, cancel, quarantine report), shown on the Import & task screen. */
  async function importPaths(paths: string[]): Promise<boolean> {
    if (!workspace.info) {
      message.value = 'Create or open a workspace first; then drop or choose the images to import.';
      return false;
    }
    if (paths.length === 0) return false;
    message.value = null;
    useUiStore().mode = 'settings';
    const imported = await useImporterStore().start(paths);
    if (imported) await useCasesStore().reload();
    return imported;
  }

  async function chooseAndImport(what: 'files' | 'folder'): Promise<boolean> {
    if (!workspace.info) return importPaths([]);
    const paths = await choose(what === 'files' ? 'import-files' : 'import-folder');
    return paths.length > 0 && importPaths(paths);
  }

  /**
   * The paths a drop names: the desktop bridge resolves File objects; a browser only knows the
   * file:// URIs a file manager may add. Empty when the drop names nothing importable.
   */
  function droppedPaths(items: DroppedItems): string[] {
    const resolve = window.medtune.pathsForFiles;
    if (resolve && items.files.length > 0) {
      const paths = resolve(items.files).filter((p) => p.length > 0);
      if (paths.length > 0) return paths;
    }
    return parsePaths(items.uriList).filter((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p));
  }

  async function importDropped(items: DroppedItems): Promise<boolean> {
    const paths = droppedPaths(items);
    if (paths.length === 0) {
      message.value = items.files.length > 0 && !window.medtune.pathsForFiles ? BROWSER_DROP_MESSAGE : 'Nothing in this drop can be imported: drop image files, folders, DICOMDIR files or zip archives.';
      return false;
    }
    return importPaths(paths);
  }

  /** Carries out an application-menu command. */
  async function run(command: DesktopCommandT): Promise<void> {
    const ui = useUiStore();
    switch (command) {
      case 'workspace-create':
        return chooseAndCreateWorkspace();
      case 'workspace-open':
        return chooseAndOpenWorkspace();
      case 'workspace-close':
        if (workspace.info) await workspace.close();
        return;
      case 'import-files':
      case 'import-folder':
        await chooseAndImport(command === 'import-files' ? 'files' : 'folder');
        return;
      case 'view-reading':
      case 'view-training':
      case 'view-settings':
        if (workspace.info) ui.mode = command === 'view-reading' ? 'reading' : command === 'view-training' ? 'training' : 'settings';
        return;
      case 'toggle-deidentified': {
        const viewer = useViewerStore();
        viewer.deidentified = !viewer.deidentified;
        return;
      }
      case 'show-shortcuts':
        // The shortcuts are the reading screen's; the training screen has no overlay of its own.
        if (workspace.info && ui.mode === 'training') ui.mode = 'reading';
        ui.helpOpen = true;
        return;
    }
  }

  const dismiss = () => (message.value = null);

  return {
    isDesktop, message, init, choose, chooseAndOpenWorkspace, chooseAndCreateWorkspace, importPaths, chooseAndImport,
    droppedPaths, importDropped, run, dismiss,
  };
});
