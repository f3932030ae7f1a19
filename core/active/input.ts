/**
 * The inputs of an acquisition strategy, normalised to flat Float32Arrays with explicit sizes so
 * that strategies over 50,000 cases never walk nested JS arrays.
 */

export class AcquisitionInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AcquisitionInputError';
  }
}

/** A [rows×cols] matrix: row-major flat array, or one array per row. */
export type MatrixLike = Float32Array | Float64Array | readonly number[] | readonly (ArrayLike<number>)[];
/** [T×n×C] Monte-Carlo dropout probabilities: flat (sample-major), or nested T × n × C. */
export type SamplesLike = Float32Array | Float64Array | readonly number[] | readonly (readonly (ArrayLike<number>)[])[];

export interface AcquisitionInput {
  /** Number of unlabeled cases n; needed only when every array given is flat. */
  numCases?: number;
  /** Softmax probabilities of the unlabeled cases, [n×C]. */
  probabilities?: MatrixLike;
  /** Classes C; needed only for flat `mcSamples` without `probabilities`. */
  numClasses?: number;
  /** MC-dropout softmax probabilities, [T×n×C] (T stochastic forward passes). */
  mcSamples?: SamplesLike;
  /** Embeddings of the unlabeled cases, [n×D]. */
  embeddings?: MatrixLike;
  /** Embeddings of the already-labelled cases, [m×D]. */
  labeledEmbeddings?: MatrixLike;
  /** Expected fall of the validation loss if each case were labelled, [n] (core/active/influence.ts); used by mixed. */
  influence?: ArrayLike<number>;
}

export interface Matrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

export interface NormalizedInput {
  n: number;
  probabilities?: Matrix;
  /** T matrices [n×C] laid out one after the other. */
  mcSamples?: { data: Float32Array; samples: number; rows: number; cols: number };
  embeddings?: Matrix;
  labeledEmbeddings?: Matrix;
  influence?: Float64Array;
}

const isNested = (x: ArrayLike<unknown>): boolean => x.length > 0 && typeof x[0] === 'object' && x[0] !== null;

/** Flattens a matrix; `rows` fixes the row count for a flat array, `cols` its width. */
export function toMatrix(value: MatrixLike, what: string, rows?: number, cols?: number): Matrix {
  if (isNested(value)) {
    const nested = value as readonly ArrayLike<number>[];
    const width = nested[0].length;
    if (rows !== undefined && nested.length !== rows) {
      throw new AcquisitionInputError(`${what}: ${nested.length} rows, expected ${rows}`);
    }
    const data = new Float32Array(nested.length * width);
    nested.forEach((row, i) => {
      if (row.length !== width) throw new AcquisitionInputError(`${what}: row ${i} has ${row.length} values, row 0 has ${width}`);
      for (let j = 0; j < width; j++) data[i * width + j] = row[j];
    });
    return checkFinite({ data, rows: nested.length, cols: width }, what);
  }
  const flat = value as ArrayLike<number>;
  const data = flat instanceof Float32Array ? flat : Float32Array.from(flat);
  if (flat.length === 0) return { data, rows: rows ?? 0, cols: cols ?? 0 };
  let r = rows;
  let c = cols;
  if (r === undefined && c !== undefined) r = flat.length / c;
  if (c === undefined && r !== undefined && r > 0) c = flat.length / r;
  if (r === undefined || c === undefined || !Number.isInteger(r) || !Number.isInteger(c) || r * c !== flat.length) {
    throw new AcquisitionInputError(
      `${what}: a flat array of ${flat.length} values cannot be shaped as ${rows ?? '?'} rows × ${cols ?? '?'} columns`,
    );
  }
  return checkFinite({ data, rows: r, cols: c }, what);
}

function checkFinite<T extends { data: Float32Array; cols: number }>(m: T, what: string): T {
  for (let k = 0; k < m.data.length; k++) {
    if (!Number.isFinite(m.data[k])) {
      throw new AcquisitionInputError(`${what}: value ${k} (row ${Math.floor(k / m.cols)}) is ${m.data[k]}`);
    }
  }
  return m;
}

/** Softmax rows must be non-negative and sum to 1 (a logit matrix passed by mistake fails here). */
function checkProbabilityRows(data: Float32Array, cols: number, what: string): void {
  for (let start = 0, row = 0; start < data.length; start += cols, row++) {
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      const p = data[start + j];
      if (p < 0) throw new AcquisitionInputError(`${what}: row ${row} has a negative probability ${p}`);
      sum += p;
    }
    if (Math.abs(sum - 1) > 1e-3) {
      throw new AcquisitionInputError(`${what}: row ${row} sums to ${sum.toFixed(4)}, expected softmax probabilities summing to 1`);
    }
  }
}

function inferCaseCount(input: AcquisitionInput): number {
  if (input.numCases !== undefined) {
    if (!Number.isInteger(input.numCases) || input.numCases < 0) {
      throw new AcquisitionInputError(`numCases must be an integer ≥ 0, got ${input.numCases}`);
    }
    return input.numCases;
  }
  if (input.probabilities && isNested(input.probabilities)) return input.probabilities.length;
  if (input.embeddings && isNested(input.embeddings)) return input.embeddings.length;
  if (input.mcSamples && isNested(input.mcSamples)) return (input.mcSamples as readonly ArrayLike<unknown>[])[0].length;
  if (input.probabilities?.length === 0 || input.embeddings?.length === 0) return 0;
  throw new AcquisitionInputError('numCases is required when probabilities, embeddings and mcSamples are all flat arrays');
}

/** Validates and flattens everything given; strategies then check for what they need. */
export function normalizeInput(input: AcquisitionInput): NormalizedInput {
  const n = inferCaseCount(input);
  const out: NormalizedInput = { n };
  if (input.probabilities !== undefined && n > 0) {
    out.probabilities = toMatrix(input.probabilities, 'probabilities', n);
    checkProbabilityRows(out.probabilities.data, out.probabilities.cols, 'probabilities');
  }
  if (input.mcSamples !== undefined && n > 0) {
    let data: Float32Array;
    let cols: number;
    if (isNested(input.mcSamples)) {
      const nested = input.mcSamples as readonly (readonly ArrayLike<number>[])[];
      const perSample = nested.map((s, t) => toMatrix(s, `mcSamples[${t}]`, n));
      cols = perSample[0].cols;
      perSample.forEach((m, t) => {
        if (m.cols !== cols) throw new AcquisitionInputError(`mcSamples[${t}] has ${m.cols} classes, mcSamples[0] has ${cols}`);
      });
      data = new Float32Array(perSample.length * n * cols);
      perSample.forEach((m, t) => data.set(m.data, t * n * cols));
    } else {
      const classes = out.probabilities?.cols ?? input.numClasses;
      if (classes === undefined) {
        throw new AcquisitionInputError('mcSamples: a flat array needs numClasses (or probabilities) to know C');
      }
      const m = toMatrix(input.mcSamples as MatrixLike, 'mcSamples', undefined, n * classes);
      data = m.data;
      cols = classes;
    }
    if (out.probabilities && out.probabilities.cols !== cols) {
      throw new AcquisitionInputError(`mcSamples have ${cols} classes, probabilities ${out.probabilities.cols}`);
    }
    checkProbabilityRows(data, cols, 'mcSamples');
    out.mcSamples = { data, samples: data.length / (n * cols), rows: n, cols };
  }
  if (input.embeddings !== undefined && n > 0) out.embeddings = toMatrix(input.embeddings, 'embeddings', n);
  if (input.labeledEmbeddings !== undefined && input.labeledEmbeddings.length > 0) {
    const dim = out.embeddings?.cols;
    out.labeledEmbeddings = toMatrix(input.labeledEmbeddings, 'labeledEmbeddings', undefined, isNested(input.labeledEmbeddings) ? undefined : dim);
    if (dim !== undefined && out.labeledEmbeddings.cols !== dim) {
      throw new AcquisitionInputError(`labeledEmbeddings have ${out.labeledEmbeddings.cols} dimensions, embeddings ${dim}`);
    }
  }
  if (input.influence !== undefined && n > 0) {
    if (input.influence.length !== n) throw new AcquisitionInputError(`influence: ${input.influence.length} values for ${n} cases`);
    out.influence = Float64Array.from(input.influence);
    const bad = out.influence.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new AcquisitionInputError(`influence: value ${bad} is not finite`);
  }
  return out;
}
