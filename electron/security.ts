import { CONTENT_SECURITY_POLICY } from '../core/app/csp';
import type { BrowserWindowConstructorOptions } from 'electron';
import { isAppUrl } from './app-protocol';

/** Web preferences every MedTune window uses: the renderer gets the contract and nothing of Node. */
export function secureWebPreferences(preloadPath: string): NonNullable<BrowserWindowConstructorOptions['webPreferences']> {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    spellcheck: false,
  };
}

/** The app's CSP, also sent as a header by the Electron session. */
export const ELECTRON_CSP = CONTENT_SECURITY_POLICY;

/**
 * The session's request filter: nothing leaves the workstation and nothing outside the renderer
 * folder is read. Only the app's own origin, the developer tools and inline data: URLs pass;
 * file: (local or a network share), http(s), ws and every other scheme are cancelled.
 */
export function isAllowedRequest(url: string): boolean {
  if (isAppUrl(url)) return true;
  return url.startsWith('devtools://') || url.startsWith('data:');
}
