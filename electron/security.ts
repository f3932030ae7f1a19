import { CONTENT_SECURITY_POLICY } from '../core/app/csp';
import type { BrowserWindowConstructorOptions } from 'electron';

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

/** Only the app's own files may be shown; everything else (http, https, other files) is refused. */
export function isAppUrl(url: string, rendererIndexUrl: string): boolean {
  try {
    const target = new URL(url);
    const base = new URL(rendererIndexUrl);
    return target.protocol === base.protocol && target.pathname.startsWith(base.pathname.replace(/[^/]*$/, ''));
  } catch {
    return false;
  }
}
