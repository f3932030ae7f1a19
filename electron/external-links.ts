import type { Shell } from 'electron';

/**
 * The only URLs MedTune will hand to the operating system's browser, matched exactly. The app makes
 * no network requests and links to no web page today, so the list is empty: every window.open and
 * target=_blank link is refused. A documentation link would be added here, https only.
 */
export const EXTERNAL_LINK_ALLOW_LIST: readonly string[] = [];

/** Whether `url` is exactly one of the allow-listed https URLs (after URL normalisation). */
export function isAllowedExternalLink(url: string, allowList: readonly string[] = EXTERNAL_LINK_ALLOW_LIST): boolean {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return false;
  }
  if (target.protocol !== 'https:' || target.username !== '' || target.password !== '') return false;
  return allowList.some((allowed) => new URL(allowed).href === target.href);
}

/**
 * The one way MedTune calls `shell.openExternal`: only allow-listed https URLs, so a page can never
 * make the OS open a file, a network share or another app's URL handler. Returns whether it opened.
 */
export function openExternalLink(
  shell: Pick<Shell, 'openExternal'>,
  url: string,
  allowList: readonly string[] = EXTERNAL_LINK_ALLOW_LIST,
): boolean {
  if (!isAllowedExternalLink(url, allowList)) return false;
  shell.openExternal(new URL(url).href).catch((err: unknown) => console.warn(`could not open ${url}: ${String(err)}`));
  return true;
}
