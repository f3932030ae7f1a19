/**
 * A series as one stack of slices for the viewer: the series' cases sorted along the slice normal
 * (ImagePositionPatient projected on the cross product of ImageOrientationPatient's row and column
 * directions, highest first as in OHIF), else by InstanceNumber, else in import order. Positions come from each file's header,
 * read once (its first bytes only) and kept per file: blobs are content-addressed, so a path's
 * header never changes.
 */
import { open } from 'node:fs/promises';
import type { CaseSeries } from '../store';
import { parseDicomBytes } from '../imaging/dicom/parse';
import { floatList } from '../imaging/dicom/transforms';

/** Enough for any ordinary header; the parser keeps what it read when the pixel data runs past this. */
const HEADER_BYTES = 64 * 1024;
const GEOMETRY_CACHE_SIZE = 50_000;

export interface SliceGeometry {
  position?: [number, number, number];
  orientation?: [number, number, number, number, number, number];
}

export type StackOrder = 'position' | 'instance-number' | 'import-order';

export interface StackSlice {
  caseId: number;
  instanceNumber?: number;
  /** Millimetres along the slice normal, when the stack is sorted by position. */
  position?: number;
}

async function headerBytes(file: string): Promise<Uint8Array> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEADER_BYTES, 0);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, bytesRead);
  } finally {
    await handle.close();
  }
}

/** ImagePositionPatient and ImageOrientationPatient of a DICOM file; empty when it has none or cannot be read. */
export async function readSliceGeometry(file: string): Promise<SliceGeometry> {
  try {
    const { dataSet } = parseDicomBytes(await headerBytes(file), file);
    const position = floatList(dataSet, 'x00200032');
    const orientation = floatList(dataSet, 'x00200037');
    return {
      ...(position.length === 3 && position.every(Number.isFinite) ? { position: position as SliceGeometry['position'] } : {}),
      ...(orientation.length === 6 && orientation.every(Number.isFinite) ? { orientation: orientation as SliceGeometry['orientation'] } : {}),
    };
  } catch {
    // A photo, or a header that cannot be read: the stack falls back to instance numbers.
    return {};
  }
}

/**
 * Slices in reading order. By position when every slice has one and they share an orientation and
 * differ along its normal; else by instance number when every slice has one; else as stored.
 */
export function sortSlices(members: { caseId: number; instanceNumber?: number }[], geometry: SliceGeometry[]): { slices: StackSlice[]; sortedBy: StackOrder } {
  const orientation = geometry[0]?.orientation;
  if (orientation && members.length > 1 && geometry.every((g) => g.position && g.orientation)) {
    const [r0, r1, r2, c0, c1, c2] = orientation;
    const normal = [r1 * c2 - r2 * c1, r2 * c0 - r0 * c2, r0 * c1 - r1 * c0];
    const same = geometry.every((g) => g.orientation!.every((v, i) => Math.abs(v - orientation[i]) < 1e-3));
    const along = geometry.map((g) => g.position!.reduce((sum, v, i) => sum + v * normal[i], 0));
    if (same && new Set(along.map((d) => d.toFixed(3))).size === members.length) {
      const slices = members.map((m, i) => ({ ...m, position: Math.round(along[i] * 1000) / 1000 }));
      // Descending along the normal, as OHIF stacks them: an axial series reads head to feet.
      slices.sort((a, b) => b.position - a.position || a.caseId - b.caseId);
      return { slices, sortedBy: 'position' };
    }
  }
  // The store already lists members by instance number, then case id.
  const slices = members.map((m) => ({ ...m }));
  return { slices, sortedBy: members.every((m) => m.instanceNumber !== undefined) ? 'instance-number' : 'import-order' };
}

/** Reads and remembers slice geometry per file. */
export class SliceGeometryCache {
  private readonly cache = new Map<string, Promise<SliceGeometry>>();

  of(file: string): Promise<SliceGeometry> {
    let hit = this.cache.get(file);
    if (!hit) {
      hit = readSliceGeometry(file);
      this.cache.set(file, hit);
      if (this.cache.size > GEOMETRY_CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
    }
    return hit;
  }

  async stack(series: CaseSeries): Promise<{ slices: StackSlice[]; sortedBy: StackOrder }> {
    const geometry = await Promise.all(series.members.map((m) => this.of(m.blobPath)));
    return sortSlices(series.members, geometry);
  }

  clear(): void {
    this.cache.clear();
  }
}
