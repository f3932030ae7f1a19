import { describe, expect, it, vi } from 'vitest';
import { EXTERNAL_LINK_ALLOW_LIST, isAllowedExternalLink, openExternalLink } from '../../../electron/external-links';

const DOCS = 'https://docs.example.org/medtune/manual.html';

function fakeShell() {
  return { openExternal: vi.fn(() => Promise.resolve()) };
}

describe('openExternalLink', () => {
  it('opens nothing with the app allow-list, which is empty: MedTune links to no web page', () => {
    expect(EXTERNAL_LINK_ALLOW_LIST).toEqual([]);
    const shell = fakeShell();
    for (const url of ['https://example.com/', DOCS, 'file:///etc/passwd', 'smb://server/share']) {
      expect(openExternalLink(shell, url), url).toBe(false);
    }
    expect(shell.openExternal).not.toHaveBeenCalled();
  });

  it('opens exactly the allow-listed https URLs', () => {
    const shell = fakeShell();
    expect(openExternalLink(shell, DOCS, [DOCS])).toBe(true);
    // Only the scheme and host are case-folded by URL parsing; the rest must match.
    expect(openExternalLink(shell, 'HTTPS://DOCS.example.org/medtune/manual.html', [DOCS])).toBe(true);
    expect(shell.openExternal.mock.calls).toEqual([[DOCS], [DOCS]]);
  });

  it('refuses other schemes, other paths, lookalike hosts, user info and non-URLs even with an allow-list', () => {
    const shell = fakeShell();
    for (const url of [
      'http://docs.example.org/medtune/manual.html',
      'https://docs.example.org/medtune/manual.html?next=evil',
      'https://docs.example.org/medtune/other.html',
      'https://docs.example.org.evil.com/medtune/manual.html',
      'https://user@docs.example.org/medtune/manual.html',
      'file:///C:/Windows/System32/calc.exe',
      'file://attacker-host/share/payload.exe',
      'app://medtune/index.html',
      'javascript:alert(1)',
      'ms-msdt:/id PCWDiagnostic',
      'not a url',
    ]) {
      expect(isAllowedExternalLink(url, [DOCS]), url).toBe(false);
      expect(openExternalLink(shell, url, [DOCS]), url).toBe(false);
    }
    expect(shell.openExternal).not.toHaveBeenCalled();
  });

  it('never lets an http: or file: entry of the list through', () => {
    const shell = fakeShell();
    expect(openExternalLink(shell, 'http://docs.example.org/', ['http://docs.example.org/'])).toBe(false);
    expect(openExternalLink(shell, 'file:///etc/passwd', ['file:///etc/passwd'])).toBe(false);
    expect(shell.openExternal).not.toHaveBeenCalled();
  });

  it('a failing OS browser does not throw into the caller', async () => {
    const shell = { openExternal: vi.fn(() => Promise.reject(new Error('no browser'))) };
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(openExternalLink(shell, DOCS, [DOCS])).toBe(true);
    await new Promise((r) => setTimeout(r, 0));
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('no browser'));
    warn.mockRestore();
  });
});
