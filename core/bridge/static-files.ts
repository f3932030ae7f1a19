import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CONTENT_SECURITY_POLICY } from '../app/csp';
import { contentTypeOf } from '../util/content-type';


/**
 * The file a request path names inside `root`, or why not: 400 for a path that is not a valid
 * percent-encoding, holds a NUL byte or is not origin-form; 404 for one that leaves `root`.
 */
export function resolveStaticPath(root: string, requestUrl: string): { file: string } | { status: 400 | 404 } {
  if (!requestUrl.startsWith('/')) return { status: 400 };
  const rawPath = requestUrl.split(/[?#]/, 1)[0];
  let rel: string;
  try {
    rel = decodeURIComponent(rawPath);
  } catch {
    return { status: 400 }; // URIError: a malformed %-sequence
  }
  if (rel.includes('\0')) return { status: 400 }; // fs would throw ERR_INVALID_ARG_VALUE
  if (rel.endsWith('/')) rel += 'index.html';
  const base = path.resolve(root);
  const file = path.resolve(base, '.' + rel);
  if (!file.startsWith(base + path.sep)) return { status: 404 };
  return { file };
}

/** Serves the built renderer read-only from `root`; anything outside it is a 404. */
export function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405).end();
    return;
  }
  const target = resolveStaticPath(root, req.url ?? '/');
  if ('status' in target) {
    res.writeHead(target.status, { 'content-type': 'text/plain' }).end(target.status === 400 ? 'bad request' : 'not found');
    return;
  }
  const { file } = target;
  fs.stat(file, (err, stat) => {
    if (err || !stat.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': contentTypeOf(file),
      'content-length': stat.size,
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-cache',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    // A file that vanishes or becomes unreadable after stat ends this response only.
    fs.createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  });
}
