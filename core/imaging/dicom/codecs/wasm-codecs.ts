/**
 * The Cornerstone WebAssembly codecs (OpenJPEG, OpenJPH, CharLS, libjpeg-turbo). Each package ships an Emscripten
 * factory (CommonJS) that finds its .wasm beside itself in Node; instances are created once and cached.
 */
import { createRequire } from 'node:module';

// ESM (tsx, vitest) has no `require`; the CommonJS Electron bundle has one but an empty import.meta.
const requireCodec: NodeJS.Require = typeof require === 'function' ? require : createRequire(import.meta.url);

export interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}

/** The common surface of the embind decoder classes. */
export interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): FrameInfo;
  delete(): void;
  getNearLossless?(): number;
  getInterleaveMode?(): number;
  getIsReversible?(): boolean;
  getLastErrorMessage?(): string;
  // OpenJPEG only: reduced-resolution decoding (the codestream's lower wavelet levels).
  decodeSubResolution?(decodeLevel: number, decodeLayer: number): void;
  calculateSizeAtDecompositionLevel?(decodeLevel: number): { width: number; height: number };
}

type DecoderClass = new () => WasmDecoder;
type CodecName = 'openjpeg' | 'openjph' | 'charls' | 'libjpeg-turbo';

const CODECS: Record<CodecName, { module: string; className: string }> = {
  openjpeg: { module: '@cornerstonejs/codec-openjpeg/decodewasmjs', className: 'J2KDecoder' },
  openjph: { module: '@cornerstonejs/codec-openjph/wasmjs', className: 'HTJ2KDecoder' },
  charls: { module: '@cornerstonejs/codec-charls/decodewasmjs', className: 'JpegLSDecoder' },
  'libjpeg-turbo': { module: '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs', className: 'JPEGDecoder' },
};

const loaded = new Map<CodecName, Promise<DecoderClass>>();

function loadCodec(name: CodecName): Promise<DecoderClass> {
  let promise = loaded.get(name);
  if (!promise) {
    const { module, className } = CODECS[name];
    promise = (async () => {
      type Factory = (options: object) => Promise<Record<string, DecoderClass>>;
      const factory = requireCodec(module) as Factory & { default?: Factory };
      // The codecs print progress (OpenJPEG's [INFO] lines) to stdout; errors are reported through exceptions.
      const silent = () => {};
      const instance = await (factory.default ?? factory)({ print: silent, printErr: silent });
      return instance[className];
    })();
    // A failed initialisation must not be cached forever.
    promise.catch(() => loaded.delete(name));
    loaded.set(name, promise);
  }
  return promise;
}

/** Loads codecs ahead of need (their WebAssembly compiles once per thread); failures wait for a real decode to report. */
export async function preloadCodecs(names: readonly CodecName[]): Promise<void> {
  await Promise.all(names.map((name) => loadCodec(name).catch(() => undefined)));
}

export interface WasmDecodeResult {
  info: FrameInfo;
  /** Decoded samples as bytes (copied out of wasm memory), little-endian for > 8 bits. */
  bytes: Uint8Array;
  nearLossless?: number;
  interleaveMode?: number;
  reversible?: boolean;
  /** Decomposition levels skipped (each halves width and height); absent for a full-resolution decode. */
  decodeLevel?: number;
}

export interface WasmDecodeOptions {
  /**
   * OpenJPEG: skip this many decomposition levels, for a quick reduced-resolution first view (more levels than the
   * codestream has is an error). Other codecs ignore it.
   */
  decodeLevel?: number;
}

/** Decodes one encoded frame. Throws the codec's error (the caller wraps it in an ImagingError). */
export async function decodeWithWasm(name: CodecName, encoded: Uint8Array, options: WasmDecodeOptions = {}): Promise<WasmDecodeResult> {
  const Decoder = await loadCodec(name);
  const decoder = new Decoder();
  try {
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    // The number of levels is known only after decoding; more than the codestream has makes OpenJPEG fail.
    const decodeLevel = options.decodeLevel && decoder.decodeSubResolution && decoder.calculateSizeAtDecompositionLevel ? options.decodeLevel : 0;
    if (decodeLevel > 0) decoder.decodeSubResolution!(decodeLevel, 0);
    else decoder.decode();
    // Frame info describes the full image; a reduced decode's size comes from its level.
    const info = { ...decoder.getFrameInfo(), ...(decodeLevel > 0 ? decoder.calculateSizeAtDecompositionLevel!(decodeLevel) : {}) };
    const decoded = decoder.getDecodedBuffer();
    return {
      info,
      bytes: Uint8Array.from(decoded),
      nearLossless: decoder.getNearLossless?.(),
      interleaveMode: decoder.getInterleaveMode?.(),
      reversible: decoder.getIsReversible?.(),
      ...(decodeLevel > 0 ? { decodeLevel } : {}),
    };
  } catch (err) {
    // Emscripten throws numbers (pointers) or strings for C++ exceptions; give them a readable message.
    if (err instanceof Error) throw err;
    const detail = decoder.getLastErrorMessage?.();
    throw new Error(`${name} decoder failed${detail ? `: ${detail}` : typeof err === 'string' ? `: ${err}` : ''}`);
  } finally {
    decoder.delete();
  }
}
