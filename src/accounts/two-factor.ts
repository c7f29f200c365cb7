// Two-factor sign-in with an authenticator app (TOTP, RFC 6238: 6 digits, 30 s, SHA-1 — what every
// app speaks), and one-time recovery codes for a lost phone.
//
// - The secret is sealed in the users table (security/seal.ts): a copy of the database alone cannot
//   produce codes. While being set up it waits in the shared store for 10 minutes, until the owner
//   proves the app has it by entering a code.
// - A code is accepted once: within its ±30 s window a code seen before is refused, across every
//   worker and server (a counter in the shared store), so that a code read over a shoulder or from a
//   proxy log is useless once used.
// - Recovery codes are kept as HMACs (high-entropy random codes need no slow hash) and each works once.
// - Between the password (or SMS code) and the second factor, a sign-in is a challenge: an opaque
//   token in the shared store, 5 minutes, naming the account; the session is made only after it.
import { Secret, TOTP } from 'otpauth';
import type { Database } from '../db/database.js';
import type { UserRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { KeyValueStore } from '../kv/store.js';
import { seal, unseal } from '../security/seal.js';
import { createAccountRepo } from './repo.js';
import { hmacHex, randomString, randomToken, secretsEqual, sha256Hex } from '../security/tokens.js';

const PERIOD_SECONDS = 30;
const SETUP_TTL_MS = 10 * 60_000;
const CHALLENGE_TTL_MS = 5 * 60_000;
const RECOVERY_CODES = 10;
// 10 characters from 31 without look-alikes (no i, l, o, 0, 1): ≈ 50 bits each.
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** How the first factor was proven: a password, an SMS code, an upstream provider (WeChat, WeCom…), or a passkey its authenticator did not verify the user of. */
export type SignInMethod = 'password' | 'sms' | 'federated' | 'passkey';

export interface TwoFactorDeps {
  database: Database;
  kv: KeyValueStore;
  secret: string;
  now?: () => number;
}

/** The account's TOTP; the label (the phone number) only names the account in the app, beside "Gatehouse". */
function totpFor(base32: string, label = ''): TOTP {
  return new TOTP({ issuer: 'Gatehouse', label, algorithm: 'SHA1', digits: 6, period: PERIOD_SECONDS, secret: Secret.fromBase32(base32) });
}

/** Recovery codes are typed by hand: spaces, dashes and case do not matter. */
function normalizeRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, '');
}

function newRecoveryCode(): string {
  const chars = randomString(RECOVERY_ALPHABET, 10);
  return `${chars.slice(0, 5)}-${chars.slice(5)}`;
}

export class TwoFactor {
  private readonly now: () => number;

  constructor(private readonly deps: TwoFactorDeps) {
    this.now = deps.now ?? Date.now;
  }

  static isEnabled(user: Pick<UserRow, 'totp_enabled_at'>): boolean {
    return user.totp_enabled_at !== null;
  }

  /** A new secret for the account, waiting for confirm(); the app is set up from the URI (or the QR code of it). */
  async begin(user: UserRow): Promise<{ secret: string; uri: string }> {
    if (TwoFactor.isEnabled(user)) throw new AppError('TWO_FACTOR_ALREADY_ENABLED');
    const secret = new Secret({ size: 20 }).base32;
    await this.deps.kv.put(`2fa-setup:${user.id}`, seal(this.deps.secret, 'totp secret', secret), SETUP_TTL_MS);
    return { secret, uri: totpFor(secret, user.phone).toString() };
  }

  /** Turns two-factor sign-in on once a code from the app matches the pending secret; returns the recovery codes (shown once). */
  async confirm(user: UserRow, code: string): Promise<string[]> {
    if (TwoFactor.isEnabled(user)) throw new AppError('TWO_FACTOR_ALREADY_ENABLED');
    const pending = await this.deps.kv.get(`2fa-setup:${user.id}`);
    if (!pending) throw new AppError('TWO_FACTOR_SETUP_EXPIRED');
    const secret = unseal(this.deps.secret, 'totp secret', pending);
    if (!(await this.acceptTotp(user.id, secret, code))) throw new AppError('INVALID_TWO_FACTOR_CODE', { details: { field: 'body.code' } });
    const recovery = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
    const sealed = seal(this.deps.secret, 'totp secret', secret);
    const enabled = await this.deps.database.write((trx) => createAccountRepo(trx).enableTotp(user.id, sealed, recovery.map((c) => this.recoveryHash(c)), this.now()));
    if (!enabled) throw new AppError('TWO_FACTOR_ALREADY_ENABLED');
    await this.deps.kv.delete(`2fa-setup:${user.id}`);
    return recovery;
  }

  /**
   * Whether `code` is the account's current authenticator code (not used before) or one of its unused
   * recovery codes (used up by this call).
   */
  async verify(user: UserRow, code: string): Promise<{ ok: boolean; recoveryCodesLeft?: number }> {
    if (!TwoFactor.isEnabled(user) || user.totp_secret === null) return { ok: false };
    const trimmed = code.trim();
    if (/^\d{6}$/.test(trimmed)) return { ok: await this.acceptTotp(user.id, unseal(this.deps.secret, 'totp secret', user.totp_secret), trimmed) };
    return this.useRecoveryCode(user, trimmed);
  }

  /** Turns two-factor sign-in off (the owner, having proved it, or an administrator for a lost phone). */
  async turnOff(userId: number): Promise<boolean> {
    return this.deps.database.write((trx) => createAccountRepo(trx).disableTotp(userId, this.now()));
  }

  /** A challenge's name that does not reveal it (for counting its wrong codes). */
  static challengeId(token: string): string {
    return sha256Hex(token);
  }

  /** The second step of a sign-in whose first factor was right: answered with 401 TWO_FACTOR_REQUIRED and this challenge. */
  async challenge(user: UserRow, method: SignInMethod): Promise<AppError> {
    const token = randomToken();
    await this.deps.kv.put(`2fa-challenge:${TwoFactor.challengeId(token)}`, JSON.stringify({ userId: user.id, method, at: this.now() }), CHALLENGE_TTL_MS);
    return new AppError('TWO_FACTOR_REQUIRED', { details: { challenge: token } });
  }

  /** Whom a challenge is for, how and when they proved the first factor; TWO_FACTOR_EXPIRED when it is unknown or over. */
  async challenged(token: string): Promise<{ userId: number; method: SignInMethod; at: number }> {
    const found = await this.deps.kv.get(`2fa-challenge:${TwoFactor.challengeId(token)}`);
    if (!found) throw new AppError('TWO_FACTOR_EXPIRED');
    const challenge = JSON.parse(found) as { userId: number; method: SignInMethod; at?: number };
    // A challenge made by a previous version (within its 5 minutes of an upgrade) has no time: now is near enough.
    return { ...challenge, at: challenge.at ?? this.now() };
  }

  /** Ends a challenge once it has made a session: it cannot make a second. False when another request ended it first. */
  async endChallenge(token: string): Promise<boolean> {
    return (await this.deps.kv.takeOnce(`2fa-challenge:${TwoFactor.challengeId(token)}`)) !== null;
  }

  /** A TOTP code for the secret within ±1 step, never accepted twice for the account. */
  private async acceptTotp(userId: number, secret: string, code: string): Promise<boolean> {
    if (!/^\d{6}$/.test(code.trim())) return false;
    const now = this.now();
    const delta = totpFor(secret).validate({ token: code.trim(), timestamp: now, window: 1 });
    if (delta === null) return false;
    const step = Math.floor(now / 1000 / PERIOD_SECONDS) + delta;
    const seen = await this.deps.kv.increment(`2fa-used:${userId}:${step}`, 3 * PERIOD_SECONDS * 1000);
    return seen.value === 1;
  }

  private recoveryHash(code: string): string {
    return hmacHex(this.deps.secret, 'gatehouse recovery code v1', normalizeRecoveryCode(code));
  }

  private async useRecoveryCode(user: UserRow, code: string): Promise<{ ok: boolean; recoveryCodesLeft?: number }> {
    const stored = user.totp_recovery_codes;
    if (stored === null) return { ok: false };
    const hashes = JSON.parse(stored) as string[];
    const wanted = this.recoveryHash(code);
    // Compared with every stored code, in constant time each, whichever matches.
    let match = -1;
    hashes.forEach((hash, i) => {
      if (secretsEqual(hash, wanted)) match = i;
    });
    if (match < 0) return { ok: false };
    const left = hashes.filter((_, i) => i !== match);
    // Only if the list is still the one read: of two requests with one code, one wins.
    const used = await this.deps.database.write((trx) => createAccountRepo(trx).replaceRecoveryCodes(user.id, stored, left));
    return used ? { ok: true, recoveryCodesLeft: left.length } : { ok: false };
  }
}
