import { defineStore } from 'pinia';
import { call, friendlyMessage } from './api';
import { useCasesStore } from './cases';
import { useImporterStore } from './importer';
import { useUiStore } from './ui';

/** A dropped file and its path inside the drop ("study/IM0001.dcm"). */
export interface DroppedFile {
  file: File;
  name: string;
}

/**
 * The files of a browser drop, folders walked. Call it inside the drop handler: the browser forgets
 * the drop's entries once the event returns, so they are taken at once and read afterwards.
 */
export function droppedFiles(data: DataTransfer): Promise<DroppedFile[]> {
  const entries = Array.from(data.items)
    .map((item) => (item.kind === 'file' ? item.webkitGetAsEntry?.() : null))
    .filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return Promise.resolve(Array.from(data.files).map((file) => ({ file, name: file.name })));
  return Promise.all(entries.map((e) => walk(e))).then((lists) => lists.flat());
}

async function walk(entry: FileSystemEntry): Promise<DroppedFile[]> {
  const name = entry.fullPath.replace(/^\/+/, '');
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    return [{ file, name }];
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const children: FileSystemEntry[] = [];
  // readEntries answers in chunks (about 100 at a time) until it answers with none.
  for (;;) {
    const chunk = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (chunk.length === 0) break;
    children.push(...chunk);
  }
  return (await Promise.all(children.map((c) => walk(c)))).flat();
}

function randomBatch(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Browser mode's import of dropped files: browsers hide where files live, so each one is uploaded to
 * the server (POST /upload, with the session token) into the workspace, then imported as one batch by the
 * normal importer. Progress and the report show in the import box, as for any import.
 */
export const useUploadsStore = defineStore('uploads', () => {
  async function uploadAndImport(files: DroppedFile[]): Promise<boolean> {
    const importer = useImporterStore();
    importer.subscribe();
    if (files.length === 0) {
      importer.error = 'Nothing in this drop can be imported.';
      return false;
    }
    useUiStore().mode = 'settings';
    const token = new URLSearchParams(location.search).get('token') ?? '';
    const batch = randomBatch();
    importer.running = true;
    importer.report = null;
    importer.error = null;
    try {
      for (const [i, { file, name }] of files.entries()) {
        importer.progress = { done: i, total: files.length, current: `uploading ${name}` };
        const query = new URLSearchParams({ token, batch, name });
        const res = await fetch(`/upload?${query.toString()}`, { method: 'POST', body: file });
        if (!res.ok) {
          const body = (await res.json().catch(() => null)) as { message?: string } | null;
          throw new Error(`Uploading ${name} failed: ${body?.message ?? res.statusText}`);
        }
      }
      importer.progress = null;
      importer.report = await call('uploads.import', { batch });
      await useCasesStore().reload();
      return true;
    } catch (err) {
      importer.error = err instanceof Error && !('error' in err) ? err.message : friendlyMessage(err);
      return false;
    } finally {
      importer.running = false;
    }
  }

  return { uploadAndImport };
});
