// Sessions: an opaque random token in the cookie, only its SHA-256 in the database (a stolen database
// yields no usable token). Expiry slides with use, up to an absolute maximum age.
import type { Database, Db } from '../db/database.js';
import { isForeignKeyViolation } from '../db/store-errors.js';
import { AppError } from '../errors.js';
import type { SessionRow } from '../db/schema.js';
import { randomToken, sha256Hex } from '../security/tokens.js';
import { createSessionRepo, type ProofColumn } from './repo.js';

export interface SessionOptions {
  ttlSeconds: number;
  maxAgeSeconds: number;
}

export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

/**
 * A factor the holder of a session proved: at sign-in, or again later (re-authentication). A passkey
 * whose authenticator verified its user (PIN or biometric) proves `passkey` and `passkey_verified`
 * together: possession of the key and the user's knowledge or body, two factors in one gesture.
 */
export type Factor = 'password' | 'sms' | 'second_factor' | 'federated' | 'passkey' | 'passkey_verified';

/** Which factors a sign-in proved, and when (ms): a second factor is usually a little after the first. */
export type Proof = Partial<Record<Factor, number>>;

const COLUMN = { password: 'password_at', sms: 'sms_at', second_factor: 'second_factor_at', federated: 'federated_at', passkey: 'passkey_at', passkey_verified: 'passkey_verified_at' } as const satisfies Record<Factor, ProofColumn>;

/** Renewal writes at most this often per session, so that a busy client does not write on every request. */
const RENEW_AFTER_MS = 60_000;

export class SessionService {
  private readonly repo;

  constructor(private readonly database: Database, private readonly options: SessionOptions, private readonly now: () => number = Date.now) {
    this.repo = createSessionRepo(database.db);
  }

  /** A new session, with what its sign-in proved; pass `trx` to create it inside a caller's write transaction. */
  async create(userId: number, client: ClientInfo, proof: Proof, trx?: Db): Promise<{ token: string; session: SessionRow }> {
    const token = randomToken(32);
    const now = this.now();
    const insert = (db: Db) =>
      createSessionRepo(db).insert({
        token_hash: sha256Hex(token),
        user_id: userId,
        created_at: now,
        last_seen_at: now,
        expires_at: now + this.options.ttlSeconds * 1000,
        absolute_expires_at: now + this.options.maxAgeSeconds * 1000,
        ip: client.ip,
        user_agent: client.userAgent?.slice(0, 256) ?? null,
        password_at: proof.password ?? null,
        sms_at: proof.sms ?? null,
        second_factor_at: proof.second_factor ?? null,
        federated_at: proof.federated ?? null,
        passkey_at: proof.passkey ?? null,
        passkey_verified_at: proof.passkey_verified ?? null,
      });
    try {
      const session = trx ? await insert(trx) : await this.database.batched(insert);
      return { token, session };
    } catch (error) {
      // The account was deleted between the password check and this insert: as if it never existed.
      if (isForeignKeyViolation(error)) throw new AppError('INVALID_CREDENTIALS');
      throw error;
    }
  }

  /** The live session a token names, renewed; null for an unknown, expired or malformed token. */
  async authenticate(token: string): Promise<SessionRow | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const session = await this.repo.findByTokenHash(sha256Hex(token));
    const now = this.now();
    if (!session) return null;
    if (session.expires_at <= now || session.absolute_expires_at <= now) {
      await this.database.retrying(() => this.repo.deleteById(session.id));
      return null;
    }
    if (now - session.last_seen_at >= RENEW_AFTER_MS) {
      const expiresAt = Math.min(now + this.options.ttlSeconds * 1000, session.absolute_expires_at);
      await this.database.retrying(() => this.repo.touch(session.id, now, expiresAt));
      return { ...session, last_seen_at: now, expires_at: expiresAt };
    }
    return session;
  }

  /** The holder of a live session proved `factor` again just now (re-authentication, or turning two-factor on); false when the session is gone. */
  recordProof(sessionId: number, factor: Factor): Promise<boolean> {
    const at = this.now();
    return this.database.retrying(() => this.repo.setProofTime(sessionId, COLUMN[factor], at));
  }

  list(userId: number): Promise<SessionRow[]> {
    return this.repo.listLive(userId, this.now());
  }

  /** Deletes sessions past their expiry; returns how many. */
  sweepExpired(): Promise<number> {
    return this.database.retrying(() => this.repo.deleteExpired(this.now()));
  }

  /** Whose session this is; undefined when there is none. */
  ownerOf(sessionId: number): Promise<number | undefined> {
    return this.repo.ownerOf(sessionId);
  }

  /** An admin's revocation of any session. */
  revokeById(sessionId: number): Promise<boolean> {
    return this.database.retrying(() => this.repo.deleteById(sessionId));
  }

  revoke(userId: number, sessionId: number): Promise<boolean> {
    return this.database.retrying(() => this.repo.deleteOne(userId, sessionId));
  }

  /**
   * Sign-ins that rest on the user's account and must end with its sessions: the apps' grants and
   * refresh tokens (src/oidc). The composition root adds them, so that this feature knows no other.
   */
  private readonly dependentSignIns: Array<(trx: Db, userId: number) => Promise<unknown>> = [];

  addDependentSignIns(end: (trx: Db, userId: number) => Promise<unknown>): void {
    this.dependentSignIns.push(end);
  }

  /** Inside a caller's write transaction: ends the dependent sign-ins only (a move to another organization keeps the user's own sessions). */
  async endDependentsWith(trx: Db, userId: number): Promise<void> {
    for (const end of this.dependentSignIns) await end(trx, userId);
  }

  /**
   * Ends every session of a user, or every one but `exceptId`, and every dependent sign-in, inside a
   * caller's write transaction (a new password or phone number, a disabled account: the change and
   * the sign-out commit together); returns how many sessions.
   */
  async endAllWith(trx: Db, userId: number, exceptId: number | null = null): Promise<number> {
    const ended = await createSessionRepo(trx).deleteForUser(userId, exceptId);
    await this.endDependentsWith(trx, userId);
    return ended;
  }

  /** The live session a token names, ended (RP-initiated logout of the single sign-on session); whether there was one. */
  async endByToken(token: string): Promise<boolean> {
    const session = await this.authenticate(token);
    return session ? this.revokeById(session.id) : false;
  }

  /** Ends every session of the user but `keepSessionId` ("sign out everywhere else"); returns how many. */
  revokeOthers(userId: number, keepSessionId: number): Promise<number> {
    return this.database.retrying(() => this.repo.deleteForUser(userId, keepSessionId));
  }
}
