import type { BaseWindow, Dialog, OpenDialogOptions } from 'electron';
import type { PathPurposeT } from '../core/api/contract';

type Dialogs = Pick<Dialog, 'showOpenDialog' | 'showSaveDialog'>;

/** Extension filters for "Import files…". "All files" first: DICOM files often have no extension at all. */
export const IMPORT_FILE_FILTERS = [
  { name: 'All files', extensions: ['*'] },
  { name: 'DICOM', extensions: ['dcm', 'dicom', 'dic'] },
  { name: 'Photos', extensions: ['jpg', 'jpeg', 'png', 'tif', 'tiff', 'bmp'] },
  { name: 'Zip archives', extensions: ['zip'] },
];

const OPEN_DIALOGS: Record<Exclude<PathPurposeT, 'workspace-create'>, OpenDialogOptions> = {
  'workspace-open': { title: 'Open workspace', buttonLabel: 'Open workspace', properties: ['openDirectory'] },
  'import-files': {
    title: 'Import files (DICOM, DICOMDIR, photos, zip)',
    buttonLabel: 'Import',
    properties: ['openFile', 'multiSelections'],
    filters: IMPORT_FILE_FILTERS,
  },
  'import-folder': { title: 'Import folders (searched recursively)', buttonLabel: 'Import', properties: ['openDirectory', 'multiSelections'] },
  // The export makes its own medtune-<task>-v<id> subfolder inside the chosen one.
  'export-folder': { title: 'Export adapter version into folder', buttonLabel: 'Export here', properties: ['openDirectory', 'createDirectory'] },
};

/**
 * Shows the native dialog for a purpose and resolves to the chosen paths ([] when cancelled). A new
 * workspace is a folder that does not exist yet, so it is named in a save dialog; everything else picks
 * existing files or folders. The renderer then sends the paths through the ordinary contract calls.
 */
export async function choosePaths(dialog: Dialogs, parent: BaseWindow | null, purpose: PathPurposeT): Promise<string[]> {
  if (purpose === 'workspace-create') {
    const options = {
      title: 'New workspace',
      buttonLabel: 'Create workspace',
      nameFieldLabel: 'Workspace folder:',
      properties: ['createDirectory' as const, 'showOverwriteConfirmation' as const],
    };
    const result = parent ? await dialog.showSaveDialog(parent, options) : await dialog.showSaveDialog(options);
    return result.canceled || !result.filePath ? [] : [result.filePath];
  }
  const options = OPEN_DIALOGS[purpose];
  const result = parent ? await dialog.showOpenDialog(parent, options) : await dialog.showOpenDialog(options);
  return result.canceled ? [] : result.filePaths;
}
