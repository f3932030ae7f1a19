/**
 * The Content-Security-Policy of MedTune's own pages, in both transports: nothing but the app's own
 * scripts and styles, no remote connections beyond the app's origin (the browser-mode WebSocket).
 * index.html repeats it as a meta tag for the first paint.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
