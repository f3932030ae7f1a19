import fs from 'node:fs';
import path from 'node:path';
import * as dicomParserModule from 'dicom-parser';
import yauzl from 'yauzl';
import { WorkspaceError } from './errors';

/** One file to import: on disk, or an entry of a zip archive. */
export interface ImportCandidate {
  /** What messages and the quarantine name: a path, or `archive.zip!/entry/name`. */
  source: string;
  /** Absolute path when the file is on disk (only these can be referenced in place). */
  filePath?: string;
  read(): Promise<Buffer>;
}

/** A failure found while listing the inputs (e.g. a DICOMDIR that names a missing file). */
export interface ListingProblem {
  source: string;
  reason: string;
}

export interface ImportListing {
  candidates: ImportCandidate[];
  problems: ListingProblem[];
  /** Closes open archives; call when done. */
  close(): void;
}

// dicom-parser is a UMD bundle: under Node ESM its functions sit on `default`.
type DicomParserApi = typeof dicomParserModule;
const dicomParser: DicomParserApi =
  typeof (dicomParserModule as DicomParserApi).parseDicom === 'function'
    ? dicomParserModule
    : ((dicomParserModule as unknown as { default: DicomParserApi }).default);

const MAX_ZIP_ENTRY_BYTES = 2 * 1024 ** 3;
/**
 * A zip entry may inflate to at most this many times its compressed size (real DICOM and photos stay far below;
 * a 1 MB entry of zeros that inflates to 1 GiB does not), except that entries up to ZIP_RATIO_FREE_BYTES always may.
 */
export const MAX_ZIP_ENTRY_RATIO = 200;
export const ZIP_RATIO_FREE_BYTES = 64 * 1024 ** 2;

/** The most bytes an entry may inflate to: its declared size, within the ratio and absolute limits. */
export function zipEntryCap(compressedSize: number): number {
  return Math.min(MAX_ZIP_ENTRY_BYTES, Math.max(ZIP_RATIO_FREE_BYTES, compressedSize * MAX_ZIP_ENTRY_RATIO));
}

/**
 * Expands folders (recursively, sorted), zip archives (entries read on demand), DICOMDIRs given
 * explicitly (the files they reference) and plain files into one list, each file once.
 */
export async function listImportInputs(inputs: string[]): Promise<ImportListing> {
  const candidates: ImportCandidate[] = [];
  const problems: ListingProblem[] = [];
  const seen = new Set<string>();
  const archives: ZipArchive[] = [];

  const addFile = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    candidates.push({ source: file, filePath: file, read: () => fs.promises.readFile(file) });
  };
  const addZip = async (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    try {
      const archive = await ZipArchive.open(file);
      archives.push(archive);
      for (const entry of archive.entries) {
        candidates.push({ source: `${file}!/${entry.fileName}`, read: () => archive.read(entry) });
      }
    } catch (err) {
      problems.push({ source: file, reason: `cannot read zip archive: ${(err as Error).message}` });
    }
  };
  const walk = async (dir: string) => {
    const entries = (await fs.promises.readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue; // .DS_Store, ._resource forks, .git
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) {
        if (isZipName(e.name)) await addZip(full);
        else addFile(full);
      }
    }
  };

  for (const input of inputs) {
    const abs = path.resolve(input);
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(abs);
    } catch {
      throw new WorkspaceError('not-found', `${abs}: no such file or folder`);
    }
    if (stat.isDirectory()) await walk(abs);
    else if (isZipName(abs)) await addZip(abs);
    else {
      addFile(abs);
      const refs = await dicomdirReferences(abs).catch(() => undefined);
      for (const ref of refs ?? []) {
        if (fs.existsSync(ref)) addFile(ref);
        else problems.push({ source: ref, reason: `referenced by ${abs} but does not exist` });
      }
    }
  }
  return { candidates, problems, close: () => archives.forEach((a) => a.close()) };
}

function isZipName(file: string): boolean {
  return file.toLowerCase().endsWith('.zip');
}

/**
 * The files a DICOMDIR references (Referenced File ID (0004,1500) of its directory records,
 * relative to the DICOMDIR's folder); undefined when the file is not a DICOMDIR.
 */
export async function dicomdirReferences(file: string): Promise<string[] | undefined> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const head = Buffer.alloc(132);
    await handle.read(head, 0, 132, 0);
    if (head.toString('latin1', 128, 132) !== 'DICM') return undefined;
  } finally {
    await handle.close();
  }
  const bytes = await fs.promises.readFile(file);
  const ds = dicomParser.parseDicom(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { untilTag: 'x7fe00010' });
  const records = ds.elements.x00041220?.items;
  if (!records) return undefined;
  const base = path.dirname(file);
  const refs: string[] = [];
  for (const item of records) {
    const id = item.dataSet?.string('x00041500');
    if (!id) continue;
    const parts = id.split('\\').map((p) => p.trim()).filter((p) => p && p !== '..' && p !== '.');
    refs.push(path.join(base, ...parts));
  }
  return refs;
}

/** A zip archive kept open while its entries are read one at a time, in any order. */
class ZipArchive {
  private constructor(
    private readonly zip: yauzl.ZipFile,
    readonly entries: yauzl.Entry[],
  ) {}

  static open(file: string): Promise<ZipArchive> {
    return new Promise((resolve, reject) => {
      yauzl.open(file, { lazyEntries: true, autoClose: false, strictFileNames: false }, (err, zip) => {
        if (err || !zip) return reject(err ?? new Error('cannot open'));
        const entries: yauzl.Entry[] = [];
        zip.on('entry', (entry: yauzl.Entry) => {
          const name = entry.fileName;
          const base = name.split('/').pop() ?? '';
          if (!name.endsWith('/') && !name.startsWith('__MACOSX/') && !base.startsWith('.')) entries.push(entry);
          zip.readEntry();
        });
        zip.once('end', () => resolve(new ZipArchive(zip, entries)));
        zip.once('error', reject);
        zip.readEntry();
      });
    });
  }

  /**
   * The entry's bytes, never more than zipEntryCap: an entry that declares or produces more is refused with a
   * `too-large` WorkspaceError as soon as the stream passes the cap (nothing beyond it is buffered).
   */
  read(entry: yauzl.Entry): Promise<Buffer> {
    const cap = zipEntryCap(entry.compressedSize);
    const tooLarge = (what: string) =>
      new WorkspaceError(
        'too-large',
        `zip entry ${entry.fileName} ${what} more than ${cap} bytes from ${entry.compressedSize} compressed (refused as a likely decompression bomb)`,
      );
    if (entry.uncompressedSize > cap) return Promise.reject(tooLarge(`declares ${entry.uncompressedSize} bytes,`));
    return new Promise((resolve, reject) => {
      this.zip.openReadStream(entry, (err, stream) => {
        if (err || !stream) return reject(err ?? new Error('cannot read entry'));
        const chunks: Buffer[] = [];
        let total = 0;
        stream.on('data', (c: Buffer) => {
          total += c.length;
          if (total > cap) {
            stream.destroy();
            reject(tooLarge('inflates to'));
            return;
          }
          chunks.push(c);
        });
        stream.on('error', reject);
        stream.on('end', () => resolve(Buffer.concat(chunks)));
      });
    });
  }

  close(): void {
    this.zip.close();
  }
}
