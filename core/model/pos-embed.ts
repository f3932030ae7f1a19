/**
 * Resizes ViT position embeddings [1, 1 + g², D] to another square grid the way timm's
 * `resample_abs_pos_embed` does: the CLS row is kept, the grid is resampled with PyTorch's
 * antialiased bicubic interpolation (`F.interpolate(mode='bicubic', antialias=True)`, a = -0.5).
 */
export function resizePosEmbed(data: Float32Array, oldGrid: number, newGrid: number, dim: number): Float32Array {
  const out = new Float32Array((1 + newGrid * newGrid) * dim);
  out.set(data.subarray(0, dim), 0);
  if (oldGrid === newGrid) {
    out.set(data.subarray(dim, (1 + oldGrid * oldGrid) * dim), dim);
    return out;
  }
  const taps = antialiasedCubicTaps(oldGrid, newGrid);
  // Separable: rows first ([old, old] → [new, old]), then columns.
  const rowsResized = new Float64Array(newGrid * oldGrid * dim);
  for (let y = 0; y < newGrid; y++) {
    const { start, weights } = taps[y];
    for (let x = 0; x < oldGrid; x++) {
      const target = (y * oldGrid + x) * dim;
      for (let t = 0; t < weights.length; t++) {
        const source = 1 + (start + t) * oldGrid + x; // +1 skips the CLS row
        const w = weights[t];
        for (let c = 0; c < dim; c++) rowsResized[target + c] += w * data[source * dim + c];
      }
    }
  }
  for (let y = 0; y < newGrid; y++) {
    for (let x = 0; x < newGrid; x++) {
      const { start, weights } = taps[x];
      const target = (1 + y * newGrid + x) * dim;
      for (let t = 0; t < weights.length; t++) {
        const source = (y * oldGrid + start + t) * dim;
        const w = weights[t];
        for (let c = 0; c < dim; c++) out[target + c] += w * rowsResized[source + c];
      }
    }
  }
  return out;
}

function cubic(x: number): number {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/** Per output index, the first input index and normalised weights (PyTorch's AA kernel). */
function antialiasedCubicTaps(inSize: number, outSize: number): Array<{ start: number; weights: number[] }> {
  const scale = inSize / outSize;
  const support = 2 * Math.max(scale, 1);
  const invScale = scale >= 1 ? 1 / scale : 1;
  const taps: Array<{ start: number; weights: number[] }> = [];
  for (let i = 0; i < outSize; i++) {
    const center = scale * (i + 0.5);
    const start = Math.max(Math.trunc(center - support + 0.5), 0);
    const end = Math.min(Math.trunc(center + support + 0.5), inSize);
    const weights: number[] = [];
    for (let j = start; j < end; j++) weights.push(cubic((j - center + 0.5) * invScale));
    const total = weights.reduce((a, b) => a + b, 0);
    taps.push({ start, weights: weights.map((w) => (total !== 0 ? w / total : 0)) });
  }
  return taps;
}
