/**
 * Worker side of DecodePool: decodes one request at a time and sends the DecodedImage back with its pixel buffers
 * transferred (no copy). Started directly as JavaScript in a build, or through decode-pool-worker.mjs under tsx/vitest.
 */
import { parentPort } from 'node:worker_threads';
import { decodeImageBytes, decodeImageFile, previewImageFile } from './decode-file';
import type { DecodeRequest, DecodeResponse } from './decode-pool-protocol';
import { verifyImageBytes } from './decode-pool-verify';
import { ImagingError, type DecodedImage } from './types';

if (!parentPort) throw new Error('decode-pool-worker must run as a worker thread');
const port = parentPort;
const cancelled = new Set<number>();

/**
 * Frames that do not own their whole ArrayBuffer (views into a shared slab, e.g. a Node Buffer pool) are copied
 * first: transferring a shared buffer would detach memory other code still uses.
 */
function transferList(image: DecodedImage): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  image.frames = image.frames.map((frame) => {
    const owned = frame.buffer instanceof ArrayBuffer && frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength;
    const own = owned && !buffers.has(frame.buffer as ArrayBuffer) ? frame : frame.slice();
    buffers.add(own.buffer as ArrayBuffer);
    return own;
  });
  return [...buffers];
}

async function handle(request: Exclude<DecodeRequest, { type: 'cancel' }>): Promise<void> {
  let response: DecodeResponse;
  let transfer: ArrayBuffer[] = [];
  if (request.type === 'verify-bytes') {
    // verifyImageBytes answers every file (a broken one with its reason); it throws only on a bug, reported as such.
    try {
      const check = await verifyImageBytes(request.bytes, request.source);
      response = cancelled.delete(request.id) ? { id: request.id, ok: false, cancelled: true } : { id: request.id, ok: true, check };
    } catch (err) {
      cancelled.delete(request.id);
      const reason = `the check failed unexpectedly: ${err instanceof Error ? err.message : String(err)}`;
      response = { id: request.id, ok: false, error: { file: request.source, reason, code: 'corrupt' } };
    }
    port.postMessage(response);
    return;
  }
  if (request.type === 'preview-file') {
    // A preview never fails: without one the viewer simply waits for the full decode.
    const preview = (await previewImageFile(request.path, request.maxSide).catch(() => undefined)) ?? null;
    const discard = cancelled.delete(request.id);
    port.postMessage(
      discard ? { id: request.id, ok: false, cancelled: true } : ({ id: request.id, ok: true, preview } satisfies DecodeResponse),
      !discard && preview ? transferList(preview) : [],
    );
    return;
  }
  try {
    const image =
      request.type === 'decode-file' ? await decodeImageFile(request.path) : await decodeImageBytes(request.bytes, request.source);
    if (cancelled.delete(request.id)) {
      response = { id: request.id, ok: false, cancelled: true };
    } else {
      transfer = transferList(image);
      response = { id: request.id, ok: true, image };
    }
  } catch (err) {
    cancelled.delete(request.id);
    const source = request.type === 'decode-file' ? request.path : request.source;
    const e = err instanceof ImagingError ? err : new ImagingError(source, err instanceof Error ? err.message : String(err), 'corrupt');
    response = { id: request.id, ok: false, error: { file: e.file, reason: e.reason, code: e.code } };
  }
  port.postMessage(response, transfer);
}

/**
 * Once the worker has answered its first request, it loads the JPEG 2000 codec while idle: compiling it costs a
 * first JPEG 2000 view 100–700 ms otherwise (the other codecs are small or rarely first).
 */
let warmed = false;
function warmUp(): void {
  if (warmed) return;
  warmed = true;
  setTimeout(() => void import('./dicom/codecs/wasm-codecs').then((codecs) => codecs.preloadCodecs(['openjpeg'])), 0);
}

port.on('message', (request: DecodeRequest) => {
  if (request.type === 'cancel') cancelled.add(request.id);
  else void handle(request).finally(warmUp);
});
