import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CustomScheme, Protocol } from 'electron';
import { CONTENT_SECURITY_POLICY } from '../core/app/csp';
import { contentTypeOf } from '../core/util/content-type';

/**
 * The renderer is served from `app://medtune/`, never from `file://`: a custom standard scheme gives
 * the page a real origin ('self' in the CSP means exactly the app), and only the built renderer
 * folder can be read through it — not the rest of the disk, and no network share.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'medtune';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

/**
 * standard: relative URLs resolve and the origin is scheme+host; secure: a secure context like https;
 * supportFetchAPI + corsEnabled: Vite's `<script type="module" crossorigin>` loads same-origin.
 */
export const APP_SCHEME_PRIVILEGES: CustomScheme = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true },
};

/** The app's own pages: scheme and host exactly, no port, no user info. */
export function isAppUrl(url: string): boolean {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return false;
  }
  return target.protocol === `${APP_SCHEME}:` && target.host === APP_HOST && target.username === '' && target.password === '';
}

/**
 * The file under `rendererDir` that an app:// URL names, or null when the URL is not the app's or
 * would leave the folder (`..`, encoded `%2e%2e`/`%2f`/`%5c`, backslashes, NUL, malformed escapes).
 */
export function resolveAppFile(rendererDir: string, url: string): string | null {
  if (!isAppUrl(url)) return null;
  let rel: string;
  try {
    rel = decodeURIComponent(new URL(url).pathname);
  } catch {
    return null; // malformed percent-escape
  }
  // No renderer file has these in its name; on Windows a backslash would be a separator.
  if (rel.includes('\\') || rel.includes('\0')) return null;
  if (rel === '' || rel.endsWith('/')) rel += 'index.html';
  const root = path.resolve(rendererDir);
  const file = path.resolve(root, '.' + rel);
  const inside = path.relative(root, file);
  if (inside === '' || inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside)) return null;
  return file;
}

function textResponse(status: number, text: string): Response {
  return new Response(text, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' } });
}

/** The `protocol.handle('app', …)` handler: GET/HEAD of files inside `rendererDir`, with MIME type and CSP. */
export function createAppProtocolHandler(rendererDir: string): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return textResponse(405, 'method not allowed');
    const file = resolveAppFile(rendererDir, request.url);
    if (!file) return textResponse(404, 'not found');
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return textResponse(404, 'not found');
      return textResponse(500, `cannot read ${path.basename(file)}: ${code ?? String(err)}`);
    }
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), {
      status: 200,
      headers: {
        'Content-Type': contentTypeOf(file),
        'Content-Security-Policy': CONTENT_SECURITY_POLICY,
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-cache',
      },
    });
  };
}

/** Must run before the app's `ready` event (Electron's rule for privileged schemes). */
export function registerAppScheme(protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>): void {
  protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
}

/** After `ready`: answers app:// requests from the built renderer folder only. */
export function serveAppProtocol(protocol: Pick<Protocol, 'handle'>, rendererDir: string): void {
  protocol.handle(APP_SCHEME, createAppProtocolHandler(rendererDir));
}
