/**
 * A small seeded PRNG so that "random" acquisition is reproducible: the same seed gives the same
 * picks on every machine (Math.random cannot be seeded).
 */

/** 32-bit FNV-1a hash of a string seed, so names like "round-3" work as seeds too. */
function hashSeed(seed: number | string): number {
  const text = typeof seed === 'number' ? `n:${seed}` : `s:${seed}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: returns a function yielding uniform floats in [0, 1). */
export function seededRandom(seed: number | string): () => number {
  return mulberry32(hashSeed(seed));
}

/** mulberry32 from a 32-bit state as given (0 becomes 1): uniform floats in [0, 1). */
export function mulberry32(seed32: number): () => number {
  let state = seed32 >>> 0 || 1;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The first `count` entries of a seeded uniform permutation of 0..n-1 (partial Fisher–Yates). */
export function seededSample(n: number, count: number, seed: number | string): Uint32Array {
  const random = seededRandom(seed);
  const pool = new Uint32Array(n);
  for (let i = 0; i < n; i++) pool[i] = i;
  const k = Math.min(count, n);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (n - i));
    const tmp = pool[i];
    pool[i] = pool[j];
    pool[j] = tmp;
  }
  return pool.slice(0, k);
}
