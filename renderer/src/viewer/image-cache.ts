import type { ViewerImageT } from '../../../core/api/contract';

/** Bytes of an image's pixel frames (what the cache budget counts). */
export const imageBytes = (image: Pick<ViewerImageT, 'frames'>): number => image.frames.reduce((n, f) => n + f.byteLength, 0);

/**
 * Images by case id, least recently used first out, bounded by the bytes of their pixels rather than by count: a
 * 100-slice CT series (100 × 512 KB) and a handful of 12 MB photos cost what they weigh. Pending loads count once
 * they arrive; a failed load leaves the cache so the next request tries again.
 */
export class ImageCache {
  private readonly entries = new Map<number, { pending: Promise<ViewerImageT>; bytes: number }>();
  private used = 0;

  constructor(readonly budget: number) {}

  get bytes(): number {
    return this.used;
  }

  has(id: number): boolean {
    return this.entries.has(id);
  }

  /** The cached image (moved to most recent), or a new load through `load`. */
  get(id: number, load: (id: number) => Promise<ViewerImageT>): Promise<ViewerImageT> {
    const hit = this.entries.get(id);
    if (hit) {
      this.entries.delete(id);
      this.entries.set(id, hit);
      return hit.pending;
    }
    const entry = { pending: load(id), bytes: 0 };
    this.entries.set(id, entry);
    entry.pending.then(
      (image) => {
        if (this.entries.get(id) !== entry) return;
        entry.bytes = imageBytes(image);
        this.used += entry.bytes;
        this.evict(id);
      },
      () => this.remove(id),
    );
    return entry.pending;
  }

  remove(id: number): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.used -= entry.bytes;
    this.entries.delete(id);
  }

  clear(): void {
    this.entries.clear();
    this.used = 0;
  }

  /** Oldest first until within budget; the image just added stays even when it alone is over budget. */
  private evict(keep: number): void {
    for (const id of this.entries.keys()) {
      if (this.used <= this.budget) return;
      if (id !== keep) this.remove(id);
    }
  }
}
