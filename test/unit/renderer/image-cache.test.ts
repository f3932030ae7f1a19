import { describe, expect, it } from 'vitest';
import type { ViewerImageT } from '../../../core/api/contract';
import { ImageCache } from '../../../renderer/src/viewer/image-cache';

const image = (caseId: number, bytes: number) => ({ caseId, frames: [new Uint8Array(bytes)] }) as unknown as ViewerImageT;

describe('renderer image cache', () => {
  it('keeps images within a byte budget, least recently used out first, and loads each once', async () => {
    const cache = new ImageCache(1000);
    const loads: number[] = [];
    const load = (id: number) => {
      loads.push(id);
      return Promise.resolve(image(id, 400));
    };
    await cache.get(1, load);
    await cache.get(2, load);
    await cache.get(1, load); // 1 is now the most recent
    await cache.get(3, load); // 1200 bytes: 2 goes
    await Promise.resolve();
    expect(loads).toEqual([1, 2, 3]);
    expect(cache.bytes).toBe(800);
    expect([1, 2, 3].map((id) => cache.has(id))).toEqual([true, false, true]);
  });

  it('keeps an image larger than the budget until the next one, and forgets failed loads', async () => {
    const cache = new ImageCache(100);
    await cache.get(1, () => Promise.resolve(image(1, 500)));
    await Promise.resolve();
    expect(cache.has(1)).toBe(true);
    await expect(cache.get(2, () => Promise.reject(new Error('cannot decode')))).rejects.toThrow('cannot decode');
    await Promise.resolve();
    expect(cache.has(2)).toBe(false);
    await cache.get(3, () => Promise.resolve(image(3, 50)));
    await Promise.resolve();
    expect(cache.has(1)).toBe(false);
    expect(cache.bytes).toBe(50);
  });
});
