// What registration, sign-in and the account page share about passwords: hashing and verifying them
// (timed, for the metrics), the proof of the current password before a sensitive change, and the
// replacement of a password, which signs the account out elsewhere.
import type { Database } from '../db/database.js';
import type { UserRow } from '../db/schema.js';
import { isAppError } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import type { HashAdmission } from '../security/hash-admission.js';
import type { ClientContext } from '../security/client-network.js';
import type { Lockout } from '../security/lockout.js';
import type { PasswordHasher } from '../security/password.js';
import type { SessionService } from '../sessions/service.js';
import { createAccountRepo } from './repo.js';

export interface PasswordDeps {
  database: Database;
  hasher: PasswordHasher;
  hashing: HashAdmission;
  lockout: Lockout;
  sessions: SessionService;
  metrics?: Metrics | undefined;
  now: () => number;
}

export class Passwords {
  constructor(private readonly deps: PasswordDeps) {}

  /** Runs one argon2 computation, timed (queueing for a hashing thread included). */
  private async timed<T>(op: 'hash' | 'verify', fn: () => Promise<T>): Promise<T> {
    const stop = this.deps.metrics?.hashDuration.startTimer({ op });
    try {
      return await fn();
    } finally {
      stop?.();
    }
  }

  hash(password: string): Promise<string> {
    return this.timed('hash', () => this.deps.hasher.hash(password));
  }

  /**
   * Whether `password` is the account's. An account without one (or no account at all) is verified
   * against a dummy hash, so that it costs the same time and always fails.
   */
  verify(user: UserRow | undefined, password: string): Promise<boolean> {
    return user && user.password_hash !== null
      ? this.timed('verify', () => this.deps.hasher.verify(user.password_hash!, password))
      : this.timed('verify', () => this.deps.hasher.verifyAgainstDummy(password)).then(() => false);
  }

  /**
   * Re-hashes a password that was hashed with other parameters than the service's now (the only
   * moment the password is at hand). Only if the stored hash is still the one verified: a password
   * changed meanwhile stays changed.
   */
  async upgradeIfNeeded(user: UserRow, password: string): Promise<void> {
    const verifiedHash = user.password_hash;
    if (verifiedHash === null || !this.deps.hasher.needsUpgrade(verifiedHash)) return;
    const upgraded = await this.hash(password);
    await this.deps.database.batched((trx) => createAccountRepo(trx).upgradePasswordHash(user.id, verifiedHash, upgraded));
  }

  /**
   * The signed-in user's proof, before a change that a borrowed session must not make: the current
   * password, when the account has one. Wrong guesses count like wrong passwords at login (on the
   * device's own count when the account knows the device, as it normally knows the one its session
   * signed in on), so that a session cannot be used to try passwords one after another.
   */
  async checkCurrent(user: UserRow, currentPassword: string | undefined, client: ClientContext): Promise<void> {
    if (user.password_hash === null) return;
    const failures = this.deps.lockout.counter(user.phone, client);
    await failures.assertNotLocked();
    if (!(await this.verify(user, currentPassword ?? ''))) await failures.recordFailure({ name: 'body.current_password', message: 'The current password is wrong.' });
  }

  /** checkCurrent on its own: admitted to the hashing queue when there is a password to verify. */
  async requireCurrent(user: UserRow, currentPassword: string | undefined, client: ClientContext): Promise<void> {
    if (user.password_hash !== null) await this.deps.hashing.admit(() => this.checkCurrent(user, currentPassword, client));
  }

  /**
   * Hashes and stores a new password and ends the account's sessions (but `keepSessionId`), in one
   * transaction. Callers run it inside hashing.admit(), before anything that cannot be undone.
   */
  async replace(user: UserRow, password: string, keepSessionId: number | null): Promise<void> {
    const passwordHash = await this.hash(password);
    const now = this.deps.now();
    await this.deps.database.write(async (trx) => {
      await createAccountRepo(trx).setPasswordHash(user.id, passwordHash, now);
      await this.deps.sessions.endAllWith(trx, user.id, keepSessionId);
    });
  }
}

/** Counts the outcome of a registration or login by its error code. */
export async function counted<T>(metrics: Metrics | undefined, counter: 'registrations' | 'logins', fn: () => Promise<T>): Promise<T> {
  try {
    const result = await fn();
    metrics?.[counter].inc({ result: 'ok' });
    return result;
  } catch (error) {
    metrics?.[counter].inc({ result: isAppError(error) ? error.code : 'INTERNAL_ERROR' });
    throw error;
  }
}
