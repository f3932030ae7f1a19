import { z } from 'zod';
import type { Workspace } from '../store';
import { PacsError } from './errors';

/**
 * Where a secret comes from. Never the secret itself in clear: either the name of an environment
 * variable read at use time, or ciphertext made by a named protector (the desktop app registers one
 * backed by Electron's safeStorage; see secrets.ts).
 */
const SecretRefSchema = z.union([
  z.object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name') }).strict(),
  z.object({ protector: z.string().min(1), ciphertext: z.string().min(1) }).strict(),
]);
export type SecretRef = z.infer<typeof SecretRefSchema>;

const AeTitle = z
  .string()
  .min(1)
  .max(16)
  .regex(/^[\x20-\x5b\x5d-\x7e]+$/, 'printable ASCII without backslash');

const DicomWebSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    auth: z
      .union([
        z.object({ kind: z.literal('basic'), user: z.string().min(1), password: SecretRefSchema }).strict(),
        z.object({ kind: z.literal('bearer'), token: SecretRefSchema }).strict(),
      ])
      .optional(),
  })
  .strict();

const DimseSchema = z
  .object({
    aet: AeTitle,
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    callingAet: AeTitle,
    /** Where we listen for C-MOVE sub-operations (absent: retrieve with C-GET). */
    listenPort: z.number().int().min(1).max(65535).optional(),
  })
  .strict();

export const PacsConnectionSchema = z
  .object({ dicomweb: DicomWebSchema.optional(), dimse: DimseSchema.optional() })
  .strict()
  .refine((c) => c.dicomweb || c.dimse, 'a connection needs a DICOMweb URL, a DIMSE peer, or both');

export type PacsConnection = z.infer<typeof PacsConnectionSchema>;
export type DicomWebConfig = NonNullable<PacsConnection['dicomweb']>;
export type DimseConfig = NonNullable<PacsConnection['dimse']>;

export const CONNECTION_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Validates and stores a connection under `name` (replacing one of that name). */
export function saveConnection(ws: Workspace, name: string, config: unknown): PacsConnection {
  if (!CONNECTION_NAME.test(name)) {
    throw new PacsError('bad-config', `"${name}" is not a connection name (letters, digits, . _ -, up to 64)`);
  }
  const parsed = parseConnection(name, config);
  ws.pacsConnections.put(name, parsed);
  return parsed;
}

/** The stored connection called `name`, validated. */
export function loadConnection(ws: Workspace, name: string): PacsConnection {
  const stored = ws.pacsConnections.get(name);
  if (!stored) {
    const known = ws.pacsConnections.list().map((c) => c.name);
    throw new PacsError('no-connection', `no PACS connection "${name}" in this workspace${known.length ? ` (known: ${known.join(', ')})` : ''}`);
  }
  return parseConnection(name, stored.config);
}

function parseConnection(name: string, config: unknown): PacsConnection {
  const r = PacsConnectionSchema.safeParse(config);
  if (!r.success) {
    throw new PacsError('bad-config', `connection "${name}": ${r.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ')}`);
  }
  return r.data;
}

/** A one-line description with no secret in it (secret references show only where they come from). */
export function describeConnection(name: string, c: PacsConnection): string {
  const parts = [name];
  if (c.dicomweb) {
    const auth = c.dicomweb.auth;
    const how = !auth ? 'no auth' : auth.kind === 'basic' ? `basic ${auth.user} ${describeSecret(auth.password, 'password')}` : `bearer ${describeSecret(auth.token, 'token')}`;
    parts.push(`dicomweb ${c.dicomweb.url} (${how})`);
  }
  if (c.dimse) {
    parts.push(`dimse ${c.dimse.callingAet} -> ${c.dimse.aet}@${c.dimse.host}:${c.dimse.port}${c.dimse.listenPort ? ` (C-MOVE to port ${c.dimse.listenPort})` : ''}`);
  }
  return parts.join('  ');
}

function describeSecret(s: SecretRef, what: 'password' | 'token'): string {
  return 'env' in s ? `${what} from $${s.env}` : `${what} protected by ${s.protector}`;
}
