/**
 * Tiles at the backbone's input size: an image larger than the ViT's input is cut into
 * non-overlapping tiles (zero-padded at the right and bottom) and the tile predictions are
 * stitched back, so thin structures keep their full resolution (no resizing).
 */

export interface TileGrid {
  width: number;
  height: number;
  tile: number;
  cols: number;
  rows: number;
}

export function tileGrid(width: number, height: number, tile: number): TileGrid {
  return { width, height, tile, cols: Math.ceil(width / tile), rows: Math.ceil(height / tile) };
}

/**
 * Copies the tile×tile window at (x0, y0) of an interleaved image (channels per pixel) into `out`
 * (offset `outOffset`), zero outside the image.
 */
export function cropWindow<T extends Uint8Array | Float32Array>(
  image: T, width: number, height: number, channels: number, x0: number, y0: number, tile: number, out: T, outOffset = 0,
): void {
  for (let y = 0; y < tile; y++) {
    const sy = y0 + y;
    for (let x = 0; x < tile; x++) {
      const sx = x0 + x;
      const o = outOffset + (y * tile + x) * channels;
      const inside = sy >= 0 && sy < height && sx >= 0 && sx < width;
      for (let c = 0; c < channels; c++) out[o + c] = inside ? image[(sy * width + sx) * channels + c] : 0;
    }
  }
}

/** Writes tile t's values (tile×tile×channels) back into the full-size `out`, dropping the padding. */
export function pasteTile(grid: TileGrid, t: number, values: Float32Array, valuesOffset: number, channels: number, out: Float32Array): void {
  const x0 = (t % grid.cols) * grid.tile;
  const y0 = Math.floor(t / grid.cols) * grid.tile;
  for (let y = 0; y < grid.tile && y0 + y < grid.height; y++) {
    for (let x = 0; x < grid.tile && x0 + x < grid.width; x++) {
      for (let c = 0; c < channels; c++) out[((y0 + y) * grid.width + x0 + x) * channels + c] = values[valuesOffset + (y * grid.tile + x) * channels + c];
    }
  }
}
