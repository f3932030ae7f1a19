import { PacsError } from './errors';

/** The boundary parameter of a multipart Content-Type header. */
export function multipartBoundary(contentType: string | null): string {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  if (!contentType?.toLowerCase().startsWith('multipart/related') || !m) {
    throw new PacsError('protocol', `expected a multipart/related answer, got "${contentType ?? 'no content type'}"`);
  }
  return m[1] ?? m[2];
}

/** Splits a multipart/related body (RFC 2046) into the bodies of its parts. */
export function parseMultipart(body: Buffer, boundary: string): Buffer[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let at = body.indexOf(delimiter);
  if (at < 0) throw new PacsError('protocol', 'multipart answer without its boundary');
  for (;;) {
    const afterDelimiter = at + delimiter.length;
    // "--" after the delimiter closes the message.
    if (body[afterDelimiter] === 0x2d && body[afterDelimiter + 1] === 0x2d) return parts;
    const headersEnd = body.indexOf('\r\n\r\n', afterDelimiter);
    if (headersEnd < 0) throw new PacsError('protocol', 'multipart part without the blank line after its headers (truncated answer?)');
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), headersEnd + 4);
    if (next < 0) throw new PacsError('protocol', 'multipart answer ends inside a part (truncated answer?)');
    parts.push(body.subarray(headersEnd + 4, next));
    at = next + 2;
  }
}

/** Builds a multipart/related body with one application/dicom part per buffer (STOW-RS). */
export function buildMultipart(parts: Buffer[], boundary: string): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), p, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}
