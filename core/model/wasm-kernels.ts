/**
 * Faster kernels for tfjs-backend-wasm 4.22: BatchMatMul, Slice and SplitV.
 *
 * BatchMatMul goes to OpenBLAS's sgemm on the heap's operands when native/blas is built (native-blas.ts);
 * otherwise, or for a broadcast it does not cover, to XNNPACK as below.
 *
 * BatchMatMul:
 * The stock kernel sends only one case to XNNPACK (a single 2-D product without transpose flags,
 * ~17 GFLOP/s here); batched products and the transpose flags that every built-in matMul gradient
 * uses fall to a naive C++ loop at ~1 GFLOP/s, which made the backward pass the slow part of
 * training. This kernel reaches XNNPACK in every case:
 * - transpose flags become an explicit transpose (the wasm Transpose kernel, memory-bound and cheap);
 * - [batch, M, K] × [K, N] (shared right operand) becomes one [batch·M, K] × [K, N] product;
 * - a true batch runs one XNNPACK product per batch entry on views of the operands (tensor ids
 *   registered on sub-ranges of the wasm heap: no copies).
 *
 *
 * Slice and SplitV: the stock kernels copy the whole input out of the wasm heap (readSync) for
 * every slice, so splitting attention heads or taking one column cost a full copy per piece.
 * These copy only the selected rows, straight between views of the heap.
 *
 * They rely on the wasm backend's internals (its data map, heap and the C functions `BatchMatMul`,
 * `register_tensor`, `dispose_data`), so they check for them. test/unit/model/wasm-kernels.test.ts
 * compares them with the cpu backend; the model parity tests on wasm cover them too.
 */
import * as tf from '@tensorflow/tfjs-core';
import { blasThreads, nativeBlas, type NativeBlas } from './native-blas';

type BatchMatMulFn = (
  aId: number,
  aShape: Uint8Array,
  aRank: number,
  bId: number,
  bShape: Uint8Array,
  bRank: number,
  transposeA: boolean,
  transposeB: boolean,
  outId: number,
) => void;

interface WasmData {
  id: number;
  memoryOffset: number;
}

/** The parts of tfjs-backend-wasm's BackendWasm this kernel uses. */
interface WasmBackendInternals {
  wasm: {
    HEAPU8: Uint8Array;
    cwrap(name: string, ret: null, args: string[]): BatchMatMulFn;
    tfjs: { registerTensor(id: number, size: number, memoryOffset: number): void; disposeData(id: number): void };
  };
  dataIdMap: { get(dataId: object): WasmData | undefined };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object): boolean;
}

const BYTES_PER_FLOAT = 4;
let installed = false;
/** Products go to the native OpenBLAS sgemm (native-blas.ts) when it is built; tests switch it to compare. */
let useNative = true;

/** A product over an empty inner dimension is all zeros (makeOutput leaves the heap as it was). */
function fillZeros(wasm: WasmBackendInternals, out: tf.TensorInfo): tf.TensorInfo {
  new Float32Array(wasm.wasm.HEAPU8.buffer, wasm.dataIdMap.get(out.dataId)!.memoryOffset, product(out.shape)).fill(0);
  return out;
}

/**
 * x·W + b (tf.fused.matMul, the dense layers) in one native sgemm whose output starts as the bias rows; the
 * separate bias Add was 13 % of a ViT-S block. Activations, PReLU weights and other broadcasts: the stock kernel.
 */
function installFusedMatMul(): void {
  const stock = tf.getKernel('_FusedMatMul', 'wasm');
  if (!stock) return;
  type Args = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };
  const fused = (args: Args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo; preluActivationWeights?: tf.TensorInfo };
    const { transposeA, transposeB, activation } = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean; activation?: string };
    const native = useNative ? nativeBlas().blas : null;
    const plain = (!activation || activation === 'linear') && !preluActivationWeights && a.dtype === 'float32' && b.dtype === 'float32';
    if (native && plain && isWasmBackend(args.backend)) {
      const out = nativeProduct(native, args.backend, a, b, transposeA, transposeB, bias);
      if (out) return out;
    }
    if (plain && (transposeA || transposeB)) {
      // The stock kernel gets transposed operands wrong (tfjs-backend-wasm 4.22): product, then the bias.
      const product = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc({ ...args, inputs: { a, b }, attrs: { transposeA, transposeB } } as never) as tf.TensorInfo;
      if (!bias) return product;
      const sum = tf.getKernel('Add', 'wasm')!.kernelFunc({ ...args, inputs: { a: product, b: bias }, attrs: {} } as never) as tf.TensorInfo;
      (args.backend as WasmBackendInternals).disposeData(product.dataId);
      return sum;
    }
    return stock.kernelFunc(args as never);
  };
  replaceKernel('_FusedMatMul', fused, stock.setupFunc);
}

/** Kernel names of the native exact GELU and its gradient (wasm backend only; ops.ts asks nativeGelu()). */
export const GELU_KERNEL = 'MedTuneGelu';
export const GELU_GRAD_KERNEL = 'MedTuneGeluGrad';

/** Whether GELU runs as one native pass (wasm backend, native/blas built, not switched off). */
export function nativeGelu(): boolean {
  return installed && useNative && tf.getBackend() === 'wasm' && nativeBlas().blas !== null;
}

/** The native GELU kernels: one pass over the heap instead of five wasm kernels (Erf alone was 11 % of a ViT-S block). */
function installGeluKernels(): void {
  type Args = { inputs: tf.NamedTensorInfoMap; backend: unknown };
  const elementwise = (args: Args, names: string[], run: (native: NativeBlas, heap: ArrayBuffer, offsets: number[], n: number) => void) => {
    const wasm = args.backend;
    if (!isWasmBackend(wasm)) throw new Error('native GELU: the wasm backend lacks the internals it needs');
    const inputs = names.map((n) => args.inputs[n] as tf.TensorInfo);
    if (inputs.some((t) => t.dtype !== 'float32')) throw new Error('native GELU supports float32 tensors only');
    const out = wasm.makeOutput([...inputs[0].shape], 'float32');
    const n = product(inputs[0].shape);
    if (n > 0) {
      const offsets = [...inputs, out].map((t) => wasm.dataIdMap.get(t.dataId)!.memoryOffset);
      run(nativeBlas().blas!, wasm.wasm.HEAPU8.buffer as ArrayBuffer, offsets, n);
    }
    return out;
  };
  tf.registerKernel({
    kernelName: GELU_KERNEL,
    backendName: 'wasm',
    kernelFunc: ((args: Args) => elementwise(args, ['x'], (b, heap, [x, y], n) => b.gelu(heap, x, y, n))) as unknown as tf.KernelFunc,
  });
  tf.registerKernel({
    kernelName: GELU_GRAD_KERNEL,
    backendName: 'wasm',
    kernelFunc: ((args: Args) => elementwise(args, ['x', 'dy'], (b, heap, [x, dy, dx], n) => b.geluGrad(heap, x, dy, dx, n))) as unknown as tf.KernelFunc,
  });
}

/** Sends BatchMatMul to the native sgemm when it is built (default), or keeps it in wasm; returns whether it now does. */
export function setNativeMatMul(enabled: boolean): boolean {
  useNative = enabled;
  return enabled && nativeBlas().blas !== null;
}

/**
 * op(a)·op(b) by the native sgemm on the operands where they lie in the wasm heap (transpose flags are
 * sgemm's own; a batch of one on either side is shared). Null for a broadcast it does not cover.
 */
function nativeProduct(
  native: NativeBlas,
  wasm: WasmBackendInternals,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA?: boolean,
  transposeB?: boolean,
  bias?: tf.TensorInfo,
): tf.TensorInfo | null {
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [M, K] = transposeA ? [ac, ar] : [ar, ac];
  const [K2, N] = transposeB ? [bc, br] : [br, bc];
  if (K !== K2) {
    throw new Error(`Error in matMul: inner shapes (${K}) and (${K2}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
  }
  const batchDimsA = a.shape.slice(0, -2);
  const batchDimsB = b.shape.slice(0, -2);
  const outerDims = tf.broadcast_util.assertAndGetBroadcastShape(batchDimsA, batchDimsB);
  const [batchA, batchB, batch] = [product(batchDimsA), product(batchDimsB), product(outerDims)];
  if ((batchA !== 1 && batchA !== batch) || (batchB !== 1 && batchB !== batch)) return null;
  // A bias is one row of N added to every output row (dense layers); any other broadcast goes the stock way.
  if (bias && (bias.dtype !== 'float32' || product(bias.shape) !== N || bias.shape.at(-1) !== N)) return null;
  const out = wasm.makeOutput([...outerDims, M, N], 'float32');
  if (batch * M * N === 0) return out;
  if (K === 0 && !bias) return fillZeros(wasm, out);
  if (K === 0) {
    wasm.disposeData(out.dataId);
    return null;
  }
  // The heap only after makeOutput: allocating may grow (and so replace) its buffer.
  const heap = wasm.wasm.HEAPU8.buffer as ArrayBuffer;
  const offset = (t: tf.TensorInfo) => wasm.dataIdMap.get(t.dataId)!.memoryOffset;
  const biasAt = bias ? offset(bias) : -1;
  if (batchB === 1 && batchA === batch && !transposeA) {
    // x·W with W shared: one [batch·M, K] × [K, N] product.
    native.gemm(heap, offset(a), offset(b), offset(out), 1, 0, 0, batch * M, N, K, false, !!transposeB, blasThreads(), biasAt);
  } else {
    native.gemm(heap, offset(a), offset(b), offset(out), batch, batchA === 1 ? 0 : M * K, batchB === 1 ? 0 : K * N, M, N, K, !!transposeA, !!transposeB, blasThreads(), biasAt);
  }
  return out;
}

function isWasmBackend(backend: unknown): backend is WasmBackendInternals {
  const b = backend as Partial<WasmBackendInternals>;
  return (
    typeof b?.wasm?.cwrap === 'function' &&
    typeof b.wasm.tfjs?.registerTensor === 'function' &&
    typeof b.wasm.tfjs?.disposeData === 'function' &&
    typeof b.dataIdNextNumber === 'number' &&
    typeof b.makeOutput === 'function'
  );
}

const shapeBytes = (shape: number[]) => new Uint8Array(new Int32Array(shape).buffer);
const product = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

/** Whether the fast kernels replaced the stock ones in this process. */
export function fastWasmKernelsInstalled(): boolean {
  return installed;
}

/**
 * Replaces the wasm backend's BatchMatMul, Slice and SplitV kernels (once per process). Returns
 * false, changing nothing, when the wasm kernels are not registered.
 */
export function installFastWasmKernels(): boolean {
  if (installed) return true;
  if (!installSliceKernels()) return false;
  const stock = tf.getKernel('BatchMatMul', 'wasm');
  const transposeKernel = tf.getKernel('Transpose', 'wasm');
  if (!stock || !transposeKernel) return false;
  let product3d: BatchMatMulFn | null = null;

  const kernelFunc = ({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) => {
    if (!isWasmBackend(backend)) throw new Error('fast BatchMatMul: the wasm backend lacks the internals it needs');
    const wasm = backend;
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = (attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new Error('BatchMatMul supports float32 tensors only');
    product3d ??= wasm.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']);
    const call = product3d;
    const native = useNative ? nativeBlas().blas : null;
    if (native) {
      const out = nativeProduct(native, wasm, a, b, transposeA, transposeB);
      if (out) return out;
    }
    const temporaries: tf.TensorInfo[] = [];
    // Makes the last two axes [rows, cols] in memory order; a transpose flag becomes a real transpose.
    const operand = (t: tf.TensorInfo, transpose: boolean | undefined): { info: tf.TensorInfo; batchDims: number[]; rows: number; cols: number } => {
      const batchDims = t.shape.slice(0, -2);
      const [r, c] = t.shape.slice(-2);
      if (!transpose) return { info: t, batchDims, rows: r, cols: c };
      const x = { dataId: t.dataId, shape: [product(batchDims), r, c], dtype: t.dtype };
      const transposed = transposeKernel.kernelFunc({ inputs: { x }, backend: backend as unknown as tf.KernelBackend, attrs: { perm: [0, 2, 1] } }) as tf.TensorInfo;
      temporaries.push(transposed);
      return { info: transposed, batchDims, rows: c, cols: r };
    };
    try {
      const A = operand(a, transposeA);
      const B = operand(b, transposeB);
      if (A.cols !== B.rows) {
        throw new Error(`Error in matMul: inner shapes (${A.cols}) and (${B.rows}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
      }
      const outerDims = tf.broadcast_util.assertAndGetBroadcastShape(A.batchDims, B.batchDims);
      const batchA = product(A.batchDims);
      const batchB = product(B.batchDims);
      const batch = product(outerDims);
      const [M, K, N] = [A.rows, A.cols, B.cols];
      const out = wasm.makeOutput([...outerDims, M, N], 'float32');
      if (batch * M * N === 0) return out;
      if (K === 0) return fillZeros(wasm, out);
      const idOf = (t: tf.TensorInfo) => wasm.dataIdMap.get(t.dataId)!;
      const aData = idOf(A.info);
      const bData = idOf(B.info);
      const outData = idOf(out);
      const run = (aId: number, aShape: number[], bId: number, bShape: number[], outId: number) =>
        call(aId, shapeBytes(aShape), 3, bId, shapeBytes(bShape), 3, false, false, outId);

      if (batchB === 1) {
        // One operand shared by every batch entry (x·W): a single [batch·M, K] × [K, N] product.
        run(aData.id, [1, batchA * M, K], bData.id, [1, K, N], outData.id);
      } else if (batchA === batch && batchB === batch) {
        // A true batch: one product per entry on views of the heap.
        const view = (base: WasmData, index: number, size: number) => {
          const id = wasm.dataIdNextNumber++;
          wasm.wasm.tfjs.registerTensor(id, size, base.memoryOffset + index * size * BYTES_PER_FLOAT);
          return id;
        };
        for (let i = 0; i < batch; i++) {
          const aId = view(aData, i, M * K);
          const bId = view(bData, i, K * N);
          const oId = view(outData, i, M * N);
          run(aId, [1, M, K], bId, [1, K, N], oId);
          // dispose_data only forgets the ids (and XNNPACK's operator cached for bId); the heap stays owned by the real tensors.
          wasm.wasm.tfjs.disposeData(aId);
          wasm.wasm.tfjs.disposeData(bId);
          wasm.wasm.tfjs.disposeData(oId);
        }
      } else {
        // Broadcast of a batched left operand against a differently batched right one: the stock C++ path.
        call(aData.id, shapeBytes([batchA, M, K]), 3, bData.id, shapeBytes([batchB, K, N]), 3, false, false, outData.id);
      }
      return out;
    } finally {
      for (const t of temporaries) wasm.disposeData(t.dataId);
    }
  };

  replaceKernel('BatchMatMul', kernelFunc, stock.setupFunc);
  installFusedMatMul();
  if (!tf.getKernel(GELU_KERNEL, 'wasm')) installGeluKernels();
  installed = true;
  return true;
}

function replaceKernel(name: string, kernelFunc: unknown, setupFunc?: tf.KernelSetupFunc): void {
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc, setupFunc });
}

type TypedArrayCtor = Float32ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor;
const ARRAY_TYPES: Partial<Record<tf.DataType, TypedArrayCtor>> = { float32: Float32Array, int32: Int32Array, bool: Uint8Array };

/** x[begin : begin + size] copied row by row between views of the heap (no copy of the whole input). */
function sliceFromHeap(wasm: WasmBackendInternals, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const Ctor = ARRAY_TYPES[x.dtype]!;
  const out = wasm.makeOutput(size, x.dtype);
  const count = product(size);
  if (count === 0) return out;
  // Views only after makeOutput: allocating may grow (and so replace) the heap's buffer.
  const heap = wasm.wasm.HEAPU8.buffer as ArrayBuffer;
  const xVals = new Ctor(heap, wasm.dataIdMap.get(x.dataId)!.memoryOffset, product(x.shape));
  const outVals = new Ctor(heap, wasm.dataIdMap.get(out.dataId)!.memoryOffset, count);
  const rank = x.shape.length;
  const strides = tf.util.computeStrides(x.shape);
  // Trailing axes taken whole make one contiguous run with the last partial axis.
  let k = rank - 1;
  while (k > 0 && begin[k] === 0 && size[k] === x.shape[k]) k--;
  const run = size[k] * (k + 1 < rank ? strides[k] : 1);
  const runStart = begin[k] * (k + 1 < rank ? strides[k] : 1);
  if (k === 0) {
    outVals.set(xVals.subarray(runStart, runStart + run));
    return out;
  }
  const index = new Array<number>(k).fill(0);
  for (let o = 0; o < count; o += run) {
    let offset = runStart;
    for (let a = 0; a < k; a++) offset += (begin[a] + index[a]) * strides[a];
    outVals.set(xVals.subarray(offset, offset + run), o);
    for (let a = k - 1; a >= 0; a--) {
      if (++index[a] < size[a]) break;
      index[a] = 0;
    }
  }
  return out;
}

function installSliceKernels(): boolean {
  const stockSlice = tf.getKernel('Slice', 'wasm');
  if (!stockSlice || !tf.getKernel('SplitV', 'wasm')) return false;
  type Args = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };
  const slice = (args: Args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (!isWasmBackend(args.backend) || !ARRAY_TYPES[x.dtype]) return stockSlice.kernelFunc(args as never);
    const { begin, size } = args.attrs as { begin: number | number[]; size: number | number[] };
    const [b, s] = tf.slice_util.parseSliceParams(x as tf.TensorInfo as tf.Tensor, begin, size);
    return sliceFromHeap(args.backend, x, b, s);
  };
  const splitV = (args: Args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
    const $axis = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, $axis);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((n) => {
      const size = [...x.shape];
      size[$axis] = n;
      const piece = slice({ ...args, attrs: { begin: [...begin], size } });
      begin[$axis] += n;
      return piece;
    });
  };
  replaceKernel('Slice', slice, stockSlice.setupFunc);
  replaceKernel('SplitV', splitV);
  return true;
}
