/**
 * JPEG sequential DCT with Huffman coding at 12-bit precision (DICOM "JPEG Extended, process 4"), greyscale only.
 *
 * Why hand-written: the npm JPEG decoders are 8-bit only (libjpeg-turbo wasm build, jpeg-js) or come bundled inside
 * whole viewer stacks (@cornerstonejs/dicom-image-loader needs @cornerstonejs/core as a peer). The inverse DCT is
 * IJG's integer "islow" (jidctint.c) with 12-bit constants, so the output matches dcmtk/GDCM (IJG-based) exactly.
 */

export class Jpeg12Error extends Error {}

const ZIGZAG = Int32Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35,
  42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62,
  63,
]);

interface HuffmanTable {
  /** maxCode[l]: largest code of length l (or -1); valPtr/minCode locate its symbols. */
  maxCode: Int32Array;
  minCode: Int32Array;
  valPtr: Int32Array;
  values: Uint8Array;
}

function buildHuffman(counts: Uint8Array, values: Uint8Array): HuffmanTable {
  const maxCode = new Int32Array(18).fill(-1);
  const minCode = new Int32Array(17);
  const valPtr = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let l = 1; l <= 16; l++) {
    const n = counts[l - 1];
    if (n > 0) {
      valPtr[l] = k;
      minCode[l] = code;
      code += n;
      k += n;
      maxCode[l] = code - 1;
    }
    code <<= 1;
  }
  maxCode[17] = 0x7fffffff;
  return { maxCode, minCode, valPtr, values };
}

class BitReader {
  private buffer = 0;
  private bits = 0;
  /** Set when a marker was reached: further bits read as zeros (as libjpeg does). */
  private atMarker = false;
  constructor(
    private readonly data: Uint8Array,
    public pos: number,
  ) {}

  private fill(): void {
    while (this.bits <= 24) {
      let byte = 0;
      if (!this.atMarker && this.pos < this.data.length) {
        byte = this.data[this.pos];
        if (byte === 0xff) {
          const next = this.data[this.pos + 1];
          if (next === 0x00) {
            this.pos += 2;
          } else {
            this.atMarker = true;
            byte = 0;
          }
        } else {
          this.pos += 1;
        }
      }
      this.buffer = (this.buffer << 8) | byte;
      this.bits += 8;
    }
  }

  bit(): number {
    if (this.bits === 0) this.fill();
    this.bits -= 1;
    return (this.buffer >>> this.bits) & 1;
  }

  receive(n: number): number {
    if (n === 0) return 0;
    if (this.bits < n) this.fill();
    this.bits -= n;
    return (this.buffer >>> this.bits) & ((1 << n) - 1);
  }

  decode(table: HuffmanTable): number {
    let code = this.bit();
    let l = 1;
    while (code > table.maxCode[l]) {
      code = (code << 1) | this.bit();
      l += 1;
      if (l > 16) throw new Jpeg12Error('corrupt Huffman data');
    }
    return table.values[table.valPtr[l] + code - table.minCode[l]];
  }

  /** Skips to the restart marker that should follow, and resets the bit buffer. */
  restart(): void {
    this.bits = 0;
    this.buffer = 0;
    this.atMarker = false;
    while (this.pos + 1 < this.data.length) {
      if (this.data[this.pos] === 0xff && this.data[this.pos + 1] >= 0xd0 && this.data[this.pos + 1] <= 0xd7) {
        this.pos += 2;
        return;
      }
      this.pos += 1;
    }
  }
}

const extend = (v: number, t: number): number => (t === 0 ? 0 : v < 1 << (t - 1) ? v - (1 << t) + 1 : v);

// jidctint.c constants (CONST_BITS 13), PASS1_BITS 1 for 12-bit samples.
const CONST_BITS = 13;
const PASS1_BITS = 1;
const F_0_298 = 2446;
const F_0_390 = 3196;
const F_0_541 = 4433;
const F_0_765 = 6270;
const F_0_899 = 7373;
const F_1_175 = 9633;
const F_1_501 = 12299;
const F_1_847 = 15137;
const F_1_961 = 16069;
const F_2_053 = 16819;
const F_2_562 = 20995;
const F_3_072 = 25172;
const MAXJSAMPLE = 4095;
const CENTERJSAMPLE = 2048;
const RANGE_MASK = MAXJSAMPLE * 4 + 3;

const descale = (x: number, n: number): number => Math.floor((x + 2 ** (n - 1)) / 2 ** n);

/** IJG's post-IDCT range limit: wraps like its table (mask to 4x the sample range), then clamps. */
function rangeLimit(x: number): number {
  let j = x & RANGE_MASK;
  if (j >= 2 * (MAXJSAMPLE + 1)) j -= 4 * (MAXJSAMPLE + 1);
  const v = j + CENTERJSAMPLE;
  return v < 0 ? 0 : v > MAXJSAMPLE ? MAXJSAMPLE : v;
}

/** jpeg_idct_islow for one block; coefficients in natural order, quant table in natural order. */
function idctIslow(coef: Int32Array, quant: Int32Array, out: Uint16Array, outOffset: number, outStride: number, ws: Float64Array): void {
  for (let c = 0; c < 8; c++) {
    if (
      coef[8 + c] === 0 && coef[16 + c] === 0 && coef[24 + c] === 0 && coef[32 + c] === 0 &&
      coef[40 + c] === 0 && coef[48 + c] === 0 && coef[56 + c] === 0
    ) {
      const dc = coef[c] * quant[c] * (1 << PASS1_BITS);
      for (let r = 0; r < 8; r++) ws[r * 8 + c] = dc;
      continue;
    }
    let z2 = coef[16 + c] * quant[16 + c];
    let z3 = coef[48 + c] * quant[48 + c];
    let z1 = (z2 + z3) * F_0_541;
    let tmp2 = z1 + z3 * -F_1_847;
    let tmp3 = z1 + z2 * F_0_765;
    z2 = coef[c] * quant[c];
    z3 = coef[32 + c] * quant[32 + c];
    let tmp0 = (z2 + z3) * (1 << CONST_BITS);
    let tmp1 = (z2 - z3) * (1 << CONST_BITS);
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp0 = coef[56 + c] * quant[56 + c];
    tmp1 = coef[40 + c] * quant[40 + c];
    tmp2 = coef[24 + c] * quant[24 + c];
    tmp3 = coef[8 + c] * quant[8 + c];
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * F_1_175;
    tmp0 *= F_0_298;
    tmp1 *= F_2_053;
    tmp2 *= F_3_072;
    tmp3 *= F_1_501;
    z1 *= -F_0_899;
    z2 *= -F_2_562;
    z3 = z3 * -F_1_961 + z5;
    z4 = z4 * -F_0_390 + z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;
    const n = CONST_BITS - PASS1_BITS;
    ws[c] = descale(tmp10 + tmp3, n);
    ws[56 + c] = descale(tmp10 - tmp3, n);
    ws[8 + c] = descale(tmp11 + tmp2, n);
    ws[48 + c] = descale(tmp11 - tmp2, n);
    ws[16 + c] = descale(tmp12 + tmp1, n);
    ws[40 + c] = descale(tmp12 - tmp1, n);
    ws[24 + c] = descale(tmp13 + tmp0, n);
    ws[32 + c] = descale(tmp13 - tmp0, n);
  }
  const n2 = CONST_BITS + PASS1_BITS + 3;
  for (let r = 0; r < 8; r++) {
    const w = r * 8;
    const o = outOffset + r * outStride;
    let z2 = ws[w + 2];
    let z3 = ws[w + 6];
    let z1 = (z2 + z3) * F_0_541;
    let tmp2 = z1 + z3 * -F_1_847;
    let tmp3 = z1 + z2 * F_0_765;
    let tmp0 = (ws[w] + ws[w + 4]) * (1 << CONST_BITS);
    let tmp1 = (ws[w] - ws[w + 4]) * (1 << CONST_BITS);
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp0 = ws[w + 7];
    tmp1 = ws[w + 5];
    tmp2 = ws[w + 3];
    tmp3 = ws[w + 1];
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * F_1_175;
    tmp0 *= F_0_298;
    tmp1 *= F_2_053;
    tmp2 *= F_3_072;
    tmp3 *= F_1_501;
    z1 *= -F_0_899;
    z2 *= -F_2_562;
    z3 = z3 * -F_1_961 + z5;
    z4 = z4 * -F_0_390 + z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;
    out[o] = rangeLimit(descale(tmp10 + tmp3, n2));
    out[o + 7] = rangeLimit(descale(tmp10 - tmp3, n2));
    out[o + 1] = rangeLimit(descale(tmp11 + tmp2, n2));
    out[o + 6] = rangeLimit(descale(tmp11 - tmp2, n2));
    out[o + 2] = rangeLimit(descale(tmp12 + tmp1, n2));
    out[o + 5] = rangeLimit(descale(tmp12 - tmp1, n2));
    out[o + 3] = rangeLimit(descale(tmp13 + tmp0, n2));
    out[o + 4] = rangeLimit(descale(tmp13 - tmp0, n2));
  }
}

/** Decodes a greyscale 12-bit sequential Huffman JPEG to little-endian 16-bit samples. */
export function decodeJpeg12Frame(stream: Uint8Array): { bytes: Uint8Array; bytesPerSample: number } {
  if (stream.length < 4 || stream[0] !== 0xff || stream[1] !== 0xd8) throw new Jpeg12Error('not a JPEG stream (no SOI)');
  const quant: Int32Array[] = [];
  const dcTables: HuffmanTable[] = [];
  const acTables: HuffmanTable[] = [];
  let width = 0;
  let height = 0;
  let quantIndex = 0;
  let restartInterval = 0;
  let pos = 2;
  while (pos + 4 <= stream.length) {
    if (stream[pos] !== 0xff) throw new Jpeg12Error(`marker expected at byte ${pos}`);
    const marker = stream[pos + 1];
    if (marker === 0xff) {
      pos += 1;
      continue;
    }
    const length = (stream[pos + 2] << 8) | stream[pos + 3];
    const body = pos + 4;
    const end = pos + 2 + length;
    if (end > stream.length) throw new Jpeg12Error('marker segment runs past the end of the stream');
    if (marker === 0xdb) {
      for (let p = body; p < end; ) {
        const sixteen = stream[p] >> 4;
        const id = stream[p] & 15;
        p += 1;
        const table = new Int32Array(64);
        for (let k = 0; k < 64; k++) {
          table[ZIGZAG[k]] = sixteen ? (stream[p] << 8) | stream[p + 1] : stream[p];
          p += sixteen ? 2 : 1;
        }
        quant[id] = table;
      }
    } else if (marker === 0xc4) {
      for (let p = body; p < end; ) {
        const cls = stream[p] >> 4;
        const id = stream[p] & 15;
        const counts = stream.subarray(p + 1, p + 17);
        const total = counts.reduce((a, b) => a + b, 0);
        const table = buildHuffman(counts, stream.slice(p + 17, p + 17 + total));
        (cls === 0 ? dcTables : acTables)[id] = table;
        p += 17 + total;
      }
    } else if (marker === 0xc0 || marker === 0xc1) {
      const precision = stream[body];
      height = (stream[body + 1] << 8) | stream[body + 2];
      width = (stream[body + 3] << 8) | stream[body + 4];
      const components = stream[body + 5];
      if (components !== 1) throw new Jpeg12Error(`${precision}-bit JPEG with ${components} components is not supported (greyscale only)`);
      if (precision !== 12) throw new Jpeg12Error(`JPEG precision ${precision} is not supported by the 12-bit decoder`);
      quantIndex = stream[body + 8];
    } else if (marker >= 0xc2 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      throw new Jpeg12Error(`JPEG process (SOF${marker - 0xc0}) is not supported by the 12-bit decoder`);
    } else if (marker === 0xdd) {
      restartInterval = (stream[body] << 8) | stream[body + 1];
    } else if (marker === 0xda) {
      if (!width || !height) throw new Jpeg12Error('scan before frame header');
      const tables = stream[body + 2];
      const dc = dcTables[tables >> 4];
      const ac = acTables[tables & 15];
      const q = quant[quantIndex];
      if (!dc || !ac || !q) throw new Jpeg12Error('scan refers to a missing Huffman or quantisation table');
      return { bytes: decodeScan(stream, end, width, height, dc, ac, q, restartInterval), bytesPerSample: 2 };
    } else if (marker === 0xd9) {
      break;
    }
    pos = end;
  }
  throw new Jpeg12Error('no scan found in the JPEG stream');
}

function decodeScan(
  stream: Uint8Array,
  start: number,
  width: number,
  height: number,
  dc: HuffmanTable,
  ac: HuffmanTable,
  quant: Int32Array,
  restartInterval: number,
): Uint8Array {
  const blocksPerLine = Math.ceil(width / 8);
  const blockRows = Math.ceil(height / 8);
  const paddedWidth = blocksPerLine * 8;
  const full = new Uint16Array(paddedWidth * blockRows * 8);
  const reader = new BitReader(stream, start);
  const coef = new Int32Array(64);
  const ws = new Float64Array(64);
  let pred = 0;
  const total = blocksPerLine * blockRows;
  for (let n = 0; n < total; n++) {
    if (restartInterval && n > 0 && n % restartInterval === 0) {
      reader.restart();
      pred = 0;
    }
    coef.fill(0);
    const t = reader.decode(dc);
    pred += extend(reader.receive(t), t);
    coef[0] = pred;
    for (let k = 1; k < 64; ) {
      const rs = reader.decode(ac);
      const r = rs >> 4;
      const s = rs & 15;
      if (s === 0) {
        if (r !== 15) break;
        k += 16;
        continue;
      }
      k += r;
      if (k > 63) throw new Jpeg12Error('corrupt AC coefficients');
      coef[ZIGZAG[k]] = extend(reader.receive(s), s);
      k += 1;
    }
    const bx = n % blocksPerLine;
    const by = Math.floor(n / blocksPerLine);
    idctIslow(coef, quant, full, by * 8 * paddedWidth + bx * 8, paddedWidth, ws);
  }
  const out = new Uint16Array(width * height);
  for (let y = 0; y < height; y++) out.set(full.subarray(y * paddedWidth, y * paddedWidth + width), y * width);
  return new Uint8Array(out.buffer);
}
