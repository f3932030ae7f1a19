import type { Handlers } from '../api/dispatch';
import { ApiFailure, type ErrorCode } from '../api/errors';
import type { PacsConnectionInfoT } from '../api/pacs-contract';
import { describeConnection, loadConnection, saveConnection, type PacsConnection, type SecretRef } from '../pacs/connection';
import { PacsError, type PacsErrorCode } from '../pacs/errors';
import { openClient, type PacsProtocol } from '../pacs/open-client';
import { retrieve } from '../pacs/retrieve';
import { protectSecret } from '../pacs/secrets';
import { sendReports } from '../pacs/send';
import type { StoredPacsConnection, Workspace } from '../store';
import type { AppSession } from './session';

type PacsHandlers = Pick<Handlers, 'pacs.list' | 'pacs.add' | 'pacs.remove' | 'pacs.echo' | 'pacs.query' | 'pacs.series' | 'pacs.retrieve' | 'pacs.cancel' | 'pacs.send'>;

/**
 * The protector a typed password goes to. The desktop app registers one under this id (Electron's
 * safeStorage, core/pacs/secrets.ts); browser mode has none, so there the password is an environment variable.
 */
export const KEYCHAIN_PROTECTOR_ID = 'os-keychain';

/** Progress events at most this often (a 10,000-instance retrieve must not flood the renderer). */
const PROGRESS_INTERVAL_MS = 100;

const API_CODE: Record<PacsErrorCode, ErrorCode> = {
  'bad-config': 'invalid',
  'no-connection': 'not-found',
  'secret-missing': 'invalid',
  auth: 'invalid',
  unreachable: 'io-error',
  protocol: 'io-error',
  'not-found': 'not-found',
  rejected: 'invalid',
  cancelled: 'conflict',
};

/** A PACS failure as a sentence the panel shows as it is (wrong credentials, PACS unreachable, …). */
function asApiFailure(err: unknown): unknown {
  if (!(err instanceof PacsError)) return err;
  const what = err.message.replace(/\.$/, '');
  const sentence =
    err.code === 'auth'
      ? `The PACS refused us: ${what}.`
      : err.code === 'unreachable'
        ? `The PACS is unreachable: ${what}. Check the address and that the PACS is running.`
        : err.code === 'cancelled'
          ? 'Cancelled.'
          : `${what.charAt(0).toUpperCase()}${what.slice(1)}.`;
  return new ApiFailure(API_CODE[err.code], sentence);
}

async function speaking<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asApiFailure(err);
  }
}

function secretSource(ref: SecretRef): string {
  return 'env' in ref ? `from $${ref.env}` : `kept by ${ref.protector}`;
}

function connectionInfo(stored: StoredPacsConnection, c: PacsConnection): PacsConnectionInfoT {
  const auth = c.dicomweb?.auth;
  return {
    name: stored.name,
    description: describeConnection(stored.name, c),
    dicomweb: c.dicomweb && {
      url: c.dicomweb.url,
      auth: auth?.kind ?? 'none',
      user: auth?.kind === 'basic' ? auth.user : undefined,
      secret: !auth ? undefined : secretSource(auth.kind === 'basic' ? auth.password : auth.token),
    },
    dimse: c.dimse && { ...c.dimse },
    updatedAt: stored.updatedAt,
  };
}

/** A secret as a reference: the environment variable named, else the typed value through the OS keychain. */
function keep(envName: string | undefined, typed: string | undefined, what: 'password' | 'token'): SecretRef {
  if (envName) return { env: envName };
  try {
    return protectSecret(KEYCHAIN_PROTECTOR_ID, typed!);
  } catch {
    throw new ApiFailure(
      'unsupported',
      `This MedTune cannot keep a typed ${what} safely (no keychain here, e.g. browser mode or a Linux desktop without a keyring). Put the ${what} in an environment variable of the MedTune process and name that variable instead.`,
    );
  }
}

/** Connections, echo, query and retrieve over core/pacs; one retrieve at a time per session. */
export function createPacsHandlers(session: AppSession): PacsHandlers {
  const ws = () => session.requireWorkspace();
  let retrieving: { controller: AbortController; dir: string } | null = null;
  let sending = false;
  // A retrieve writes into the workspace it started in: stop it when that workspace is closed or replaced.
  session.events.subscribe((event, payload) => {
    if (event === 'workspace.changed' && retrieving && (payload as { dir?: string } | null)?.dir !== retrieving.dir) retrieving.controller.abort();
  });
  const client = (w: Workspace, name: string, protocol?: PacsProtocol) => openClient(loadConnection(w, name), protocol);

  return {
    'pacs.list': () =>
      speaking(() => {
        const w = ws();
        return w.pacsConnections.list().map((s) => connectionInfo(s, loadConnection(w, s.name)));
      }),
    'pacs.add': (req) =>
      speaking(() => {
        const w = ws();
        const config: PacsConnection = {};
        if (req.dicomweb) {
          const { url, user, passwordEnv, password, tokenEnv, token } = req.dicomweb;
          if ((tokenEnv || token) && (user || passwordEnv || password)) throw new ApiFailure('invalid-request', 'Choose Basic (a user and a password) or Bearer (a token), not both.');
          if (user && !passwordEnv && !password) {
            throw new ApiFailure('invalid-request', 'A Basic user needs a password: name the environment variable that holds it, or type it (desktop app only).');
          }
          if (!user && (passwordEnv || password)) throw new ApiFailure('invalid-request', 'A password needs a user name.');
          if (user) config.dicomweb = { url, auth: { kind: 'basic', user, password: keep(passwordEnv, password, 'password') } };
          else if (tokenEnv || token) config.dicomweb = { url, auth: { kind: 'bearer', token: keep(tokenEnv, token, 'token') } };
          else config.dicomweb = { url };
        }
        if (req.dimse) config.dimse = { ...req.dimse };
        if (!config.dicomweb && !config.dimse) throw new ApiFailure('invalid-request', 'A connection needs a DICOMweb URL, a DIMSE peer (AE title, host, port), or both.');
        saveConnection(w, req.name, config);
        const stored = w.pacsConnections.get(req.name)!;
        return connectionInfo(stored, loadConnection(w, req.name));
      }),
    'pacs.remove': (req) => ({ removed: ws().pacsConnections.remove(req.name) }),
    'pacs.echo': (req) =>
      speaking(async () => {
        const c = await client(ws(), req.connection, req.protocol);
        const started = Date.now();
        await c.echo();
        const ms = Date.now() - started;
        const how = c.protocol === 'dicomweb' ? 'DICOMweb' : 'C-ECHO';
        return { protocol: c.protocol, ms, message: `${req.connection} answered (${how}) in ${ms} ms: the address and credentials work.` };
      }),
    'pacs.query': (req) =>
      speaking(async () => {
        const q = req.query;
        const c = await client(ws(), req.connection, req.protocol);
        const blankless = Object.fromEntries(Object.entries(q).filter(([, v]) => v !== '' && v !== undefined));
        return c.findStudies(blankless);
      }),
    'pacs.series': (req) => speaking(async () => (await client(ws(), req.connection, req.protocol)).findSeries(req.studyUid)),
    'pacs.retrieve': (req) =>
      speaking(async () => {
        const w = ws();
        if (retrieving) throw new ApiFailure('busy', 'A retrieve is running. Wait for it to finish or cancel it first.');
        const c = await client(w, req.connection, req.protocol);
        const controller = new AbortController();
        retrieving = { controller, dir: w.dir };
        let lastEmit = 0;
        try {
          const report = await retrieve(w, c, req.targets, {
            connection: req.connection,
            concurrency: req.concurrency,
            signal: controller.signal,
            onProgress: (p) => {
              const now = Date.now();
              if (p.done === p.total || now - lastEmit >= PROGRESS_INTERVAL_MS) {
                lastEmit = now;
                session.events.emit('pacs.progress', { connection: req.connection, ...p });
              }
            },
          });
          session.events.emit('pacs.progress', { connection: req.connection, phase: 'done', done: report.fetched + report.failed, total: report.listed - report.present });
          // The worklist and the header's case count follow, as after an import by path.
          const info = session.current === w ? w.info() : null;
          if (info) session.events.emit('workspace.changed', info);
          const { caseIds: _ids, ...rest } = report;
          return { ...rest, caseCount: info?.caseCount ?? 0 };
        } finally {
          retrieving = null;
          await c.close?.();
        }
      }),
    'pacs.send': (req) =>
      speaking(async () => {
        const w = ws();
        if (sending) throw new ApiFailure('busy', 'Labels are being sent. Wait for that to finish.');
        const task = w.tasks.get(req.taskId);
        const caseIds = w.pacsOrigins.caseIds(req.connection, req.studyUids);
        const where = req.studyUids ? `the ${req.studyUids.length === 1 ? 'chosen study' : `${req.studyUids.length} chosen studies`}` : req.connection;
        if (caseIds.length === 0) throw new ApiFailure('not-found', `No case in this workspace was retrieved from ${where}; retrieve studies first, then label them.`);
        const c = await client(w, req.connection, req.protocol);
        sending = true;
        try {
          const r = await sendReports(w, c, task.id, {
            caseIds,
            onProgress: (p) => session.events.emit('pacs.progress', { connection: req.connection, phase: 'sending', ...p }),
          });
          const how = c.protocol === 'dicomweb' ? 'STOW-RS' : 'C-STORE';
          return { ...r, message: `Sent ${r.studies} report${r.studies === 1 ? '' : 's'} (${r.cases} labelled case${r.cases === 1 ? '' : 's'} of "${task.name}", from ${where}) to ${req.connection} by ${how}.` };
        } catch (err) {
          if (err instanceof PacsError && err.code === 'not-found' && /no labelled/.test(err.message)) {
            throw new ApiFailure('not-found', `None of the ${caseIds.length} case${caseIds.length === 1 ? '' : 's'} retrieved from ${where} has a label in "${task.name}" yet.`);
          }
          throw err;
        } finally {
          sending = false;
          await c.close?.();
        }
      }),
    'pacs.cancel': () => {
      if (!retrieving) return { cancelled: false };
      retrieving.controller.abort();
      return { cancelled: true };
    },
  };
}
