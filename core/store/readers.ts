import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { WorkspaceError } from './errors';
import { READER_ROLES, type ReaderRole } from '../vocabulary';

/** A local reader profile: who labels, reads and reviews on this workstation. */
export interface ReaderProfile {
  id: number;
  name: string;
  role: ReaderRole;
  /** Whether switching to this profile asks for its PIN. */
  hasPin: boolean;
  createdAt: string;
}

export interface NewReader {
  name: string;
  role?: ReaderRole;
  /** 4–12 digits; stored only as a salted scrypt hash. */
  pin?: string;
}

interface ReaderRow {
  id: number;
  name: string;
  role: ReaderRole;
  pin_hash: string | null;
  pin_failures: number;
  pin_locked_until: string | null;
  created_at: string;
}

/**
 * Wrong PINs before a profile locks, and how long: `freeAttempts` in a row are allowed, the next wrong
 * one locks the profile for `firstLockSeconds`, each further one doubles that up to `maxLockSeconds`.
 * A 4-digit PIN then takes months to guess instead of seconds. A right PIN or a new PIN resets the count.
 */
export const PIN_LOCKOUT = { freeAttempts: 5, firstLockSeconds: 30, maxLockSeconds: 15 * 60 } as const;

/** What a PIN attempt found: opened, wrong (tries left before a lockout), or locked (no PIN was checked). */
export type PinAttempt =
  | { ok: true }
  | { ok: false; reason: 'wrong'; attemptsLeft: number }
  | { ok: false; reason: 'locked'; lockedUntil: string; seconds: number };

const PIN_PATTERN = /^\d{4,12}$/;
const SCRYPT_KEY_BYTES = 32;

/**
 * Reader profiles (name, role, optional PIN). The name is what every label, read, measurement and
 * comment records as its author; the role says who may settle disagreements (reviewer, admin) and
 * who may manage profiles (admin).
 */
export class ReaderService {
  constructor(private readonly db: Database) {}

  list(): ReaderProfile[] {
    return (this.db.prepare('SELECT * FROM readers ORDER BY id').all() as ReaderRow[]).map(toProfile);
  }

  get(name: string): ReaderProfile | undefined {
    const row = this.db.prepare('SELECT * FROM readers WHERE name = ?').get(name.trim()) as ReaderRow | undefined;
    return row ? toProfile(row) : undefined;
  }

  /** The profile, or a not-found error naming it. */
  require(name: string): ReaderProfile {
    const profile = this.get(name);
    if (!profile) throw new WorkspaceError('not-found', `No reader profile named '${name}'`);
    return profile;
  }

  add(input: NewReader): ReaderProfile {
    const name = input.name?.trim();
    if (!name || name.length > 64) throw new WorkspaceError('invalid', 'A reader profile needs a name of 1 to 64 characters');
    const role = input.role ?? 'reader';
    if (!(READER_ROLES as readonly string[]).includes(role)) {
      throw new WorkspaceError('invalid', `Unknown role '${String(role)}' (expected ${READER_ROLES.join(', ')})`);
    }
    if (this.get(name)) throw new WorkspaceError('conflict', `A reader profile named '${name}' already exists`);
    this.db
      .prepare('INSERT INTO readers (name, role, pin_hash, created_at) VALUES (?, ?, ?, ?)')
      .run(name, role, input.pin === undefined || input.pin === '' ? null : hashPin(input.pin), new Date().toISOString());
    return this.require(name);
  }

  /**
   * The default profile: the operating-system account, created as an admin on first use (the person
   * who owns the workstation manages its profiles).
   */
  ensureDefault(osUser: string): ReaderProfile {
    return this.get(osUser) ?? this.add({ name: osUser, role: 'admin' });
  }

  /** Whether `pin` opens this profile (always true for a profile without a PIN). */
  checkPin(name: string, pin: string | undefined): boolean {
    const row = this.db.prepare('SELECT pin_hash FROM readers WHERE name = ?').get(name.trim()) as { pin_hash: string | null } | undefined;
    if (!row) throw new WorkspaceError('not-found', `No reader profile named '${name}'`);
    if (row.pin_hash === null) return true;
    return pin !== undefined && verifyPin(pin, row.pin_hash);
  }

  /**
   * A PIN typed to open a profile, counted: while the profile is locked nothing is checked; a wrong PIN
   * counts towards the lockout (PIN_LOCKOUT), a right one clears the count. Profiles without a PIN open.
   */
  attemptPin(name: string, pin: string | undefined, now: Date = new Date()): PinAttempt {
    const row = this.db.prepare('SELECT * FROM readers WHERE name = ?').get(name.trim()) as ReaderRow | undefined;
    if (!row) throw new WorkspaceError('not-found', `No reader profile named '${name}'`);
    if (row.pin_hash === null) return { ok: true };
    const lockedUntil = row.pin_locked_until ? Date.parse(row.pin_locked_until) : NaN;
    if (lockedUntil > now.getTime()) return { ok: false, reason: 'locked', lockedUntil: row.pin_locked_until!, seconds: Math.ceil((lockedUntil - now.getTime()) / 1000) };
    if (pin !== undefined && verifyPin(pin, row.pin_hash)) {
      this.db.prepare('UPDATE readers SET pin_failures = 0, pin_locked_until = NULL WHERE id = ?').run(row.id);
      return { ok: true };
    }
    const failures = row.pin_failures + 1;
    const over = failures - PIN_LOCKOUT.freeAttempts;
    if (over <= 0) {
      this.db.prepare('UPDATE readers SET pin_failures = ? WHERE id = ?').run(failures, row.id);
      return { ok: false, reason: 'wrong', attemptsLeft: PIN_LOCKOUT.freeAttempts - failures };
    }
    const seconds = Math.min(PIN_LOCKOUT.maxLockSeconds, PIN_LOCKOUT.firstLockSeconds * 2 ** (over - 1));
    const until = new Date(now.getTime() + seconds * 1000).toISOString();
    this.db.prepare('UPDATE readers SET pin_failures = ?, pin_locked_until = ? WHERE id = ?').run(failures, until, row.id);
    return { ok: false, reason: 'locked', lockedUntil: until, seconds };
  }

  /** Sets (or with '' removes) a profile's PIN; a lockout from wrong PINs ends with it. */
  setPin(name: string, pin: string): ReaderProfile {
    this.require(name);
    this.db
      .prepare('UPDATE readers SET pin_hash = ?, pin_failures = 0, pin_locked_until = NULL WHERE name = ?')
      .run(pin === '' ? null : hashPin(pin), name.trim());
    return this.require(name);
  }

  setRole(name: string, role: ReaderRole): ReaderProfile {
    if (!(READER_ROLES as readonly string[]).includes(role)) throw new WorkspaceError('invalid', `Unknown role '${String(role)}'`);
    this.require(name);
    this.db.prepare('UPDATE readers SET role = ? WHERE name = ?').run(role, name.trim());
    return this.require(name);
  }

  /** Refuses unless the named profile has one of the roles (a name without a profile has none). */
  requireRole(name: string, roles: readonly ReaderRole[], action: string): ReaderProfile {
    const profile = this.get(name);
    if (!profile || !roles.includes(profile.role)) {
      throw new WorkspaceError('forbidden', `${name} may not ${action}: that needs the role ${roles.join(' or ')}`);
    }
    return profile;
  }
}

function hashPin(pin: string): string {
  if (!PIN_PATTERN.test(pin)) throw new WorkspaceError('invalid', 'A PIN is 4 to 12 digits');
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('hex')}$${scryptSync(pin, salt, SCRYPT_KEY_BYTES).toString('hex')}`;
}

function verifyPin(pin: string, stored: string): boolean {
  const [scheme, saltHex, keyHex] = stored.split('$');
  if (scheme !== 'scrypt' || !saltHex || !keyHex) return false;
  const expected = Buffer.from(keyHex, 'hex');
  const actual = scryptSync(pin, Buffer.from(saltHex, 'hex'), expected.length);
  return timingSafeEqual(actual, expected);
}

function toProfile(r: ReaderRow): ReaderProfile {
  return { id: r.id, name: r.name, role: r.role, hasPin: r.pin_hash !== null, createdAt: r.created_at };
}
