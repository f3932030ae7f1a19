import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';

/** Browser mode's upload endpoint: POST /upload?token=…&batch=<hex>&name=<relative path>, the file as the body. */
export const UPLOAD_PATH = '/upload';
/** Largest file one upload may carry (a multi-frame DICOM or a zip of a study fits). */
export const MAX_UPLOAD_BYTES = 2 * 1024 ** 3;

const BATCH = /^[0-9a-f]{8,64}$/;

/**
 * A dropped file's relative name ("study/IM0001.dcm") as a safe path inside the batch folder, or null:
 * no absolute paths, no "..", no empty or hidden-control segments, at most 16 levels.
 */
export function safeRelativeName(name: string | null): string | null {
  if (!name) return null;
  const parts = name.replace(/\\/g, '/').split('/');
  if (parts.length > 16) return null;
  for (const part of parts) {
    const control = [...part].some((ch) => ch.charCodeAt(0) < 0x20);
    if (part === '' || part === '.' || part === '..' || part.length > 255 || control) return null;
  }
  return parts.join(path.sep);
}

function answer(res: http.ServerResponse, status: number, body: object): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify(body));
}

/**
 * Streams one uploaded file into `<dir>/<batch>/<name>`. The size limit is enforced on the bytes
 * received, not only on Content-Length; a failed or oversized upload leaves no partial file behind.
 */
export function handleUpload(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  opts: { allowed: boolean; dir: string | null; maxBytes: number },
): void {
  const refuse = (status: number, message: string) => {
    answer(res, status, { ok: false, message });
    req.resume(); // drain what the client still sends, so the answer reaches it
  };
  if (!opts.allowed) return refuse(403, 'Forbidden');
  if (req.method !== 'POST') return refuse(405, 'Uploads are POST requests.');
  if (!opts.dir) return refuse(409, 'Open a workspace before uploading files.');
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const batch = url.searchParams.get('batch') ?? '';
  const name = safeRelativeName(url.searchParams.get('name'));
  if (!BATCH.test(batch)) return refuse(400, 'The upload batch must be 8–64 hex digits.');
  if (!name) return refuse(400, `Not a usable file name: ${JSON.stringify(url.searchParams.get('name'))}.`);
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > opts.maxBytes) {
    return refuse(413, `${name} is ${declared} bytes; an upload may be at most ${opts.maxBytes} bytes.`);
  }
  const file = path.join(opts.dir, batch, name);
  const partial = `${file}.part`;
  let received = 0;
  let failed = false;
  const fail = (status: number, message: string) => {
    if (failed) return;
    failed = true;
    out.destroy();
    fs.rm(partial, { force: true }, () => refuse(status, message));
  };
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
  } catch (err) {
    return refuse(500, `Cannot make the upload folder: ${(err as Error).message}`);
  }
  const out = fs.createWriteStream(partial, { flags: 'wx' });
  out.on('error', (err) => fail(500, `Cannot write ${name}: ${err.message}`));
  req.on('error', () => fail(400, `The upload of ${name} was interrupted.`));
  req.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > opts.maxBytes) fail(413, `${name} is larger than ${opts.maxBytes} bytes, the most one upload may be.`);
    else if (!failed && !out.write(chunk)) {
      req.pause();
      out.once('drain', () => req.resume());
    }
  });
  req.on('end', () => {
    if (failed) return;
    out.end(() => {
      fs.rename(partial, file, (err) => {
        if (err) return fail(500, `Cannot keep ${name}: ${err.message}`);
        answer(res, 200, { ok: true, batch, name, bytes: received });
      });
    });
  });
}
