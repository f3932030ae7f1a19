import { seededRandom } from '../../core/util/prng';
import type { Sample } from '../../core/train/trainer';

/** n S×S RGB samples in three classes told apart by which colour channel dominates, under seeded noise. */
export function colourSamples(n: number, seed: string, size: number): Sample[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const label = i % 3;
    const input = new Uint8Array(size * size * 3);
    for (let p = 0; p < size * size; p++)
      for (let c = 0; c < 3; c++) input[p * 3 + c] = Math.round(random() * 120 + (c === label ? 110 : 0));
    return { input, label };
  });
}
