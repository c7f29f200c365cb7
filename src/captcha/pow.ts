// The proof-of-work challenge (ALTCHA protocol 2, altcha-lib): the browser spends CPU instead of reading
// a picture. Challenges are deterministic (the server picks the counter, so it knows the answer): their
// signature covers purpose, expiry and difficulty level, and verifying a solution is two HMACs, however
// hard the challenge was. Each challenge is registered in the shared store when issued and taken from it
// atomically when used, so one solution passes once across every worker and server.
import { createChallenge, randomInt, verifySolution, type Challenge, type Solution } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import { AppError } from '../errors.js';
import type { KeyValueStore } from '../kv/store.js';
import type { LimitedClient } from '../security/client-network.js';
import type { RateLimits } from '../security/rate-limits.js';
import { hmacHex } from '../security/tokens.js';
import type { CaptchaOutcome, CaptchaPurpose, CaptchaUse } from './service.js';

/**
 * PBKDF2 is what every browser's WebCrypto derives natively (Argon2id and scrypt would need a WebAssembly
 * solver on the pages); its iterations make each guess cost the same in a browser as in a script.
 */
export const POW_ALGORITHM = 'PBKDF2/SHA-256';
/** PBKDF2 iterations per guess. */
export const POW_COST = 1_000;
/** Level 0's counters are drawn from [BASE, 2·BASE); each level multiplies the expected work by 4. */
export const POW_BASE_COUNTER = 150;
export const POW_LEVEL_FACTOR = 4;
export const POW_MAX_LEVEL = 4;
/**
 * Challenges per window an address fetches before the difficulty rises (CAPTCHA_POW_FREE_PER_ADDRESS): a
 * school's room behind one address fetches many, so the default is generous.
 */
export const POW_FREE_PER_ADDRESS = 100;
/** Solutions per window submitted with one phone number before the difficulty rises: one person needs few. */
export const POW_FREE_PER_PHONE = 10;
export const POW_WINDOW_MS = 10 * 60_000;

export interface ProofOfWorkOptions {
  kv: KeyValueStore;
  /** The service secret: the challenge and key signature secrets are derived from it. */
  secret: string;
  ttlSeconds: number;
  /** Challenges per window an address fetches at level 0; default POW_FREE_PER_ADDRESS. */
  freePerAddress?: number;
  rateLimits?: RateLimits;
}

export interface PowPayload {
  challenge: Challenge;
  solution: Solution;
}

/** The level a window's request count calls for: 0 up to `free` requests, +1 for each doubling after. */
export function levelForCount(count: number, free: number): number {
  if (count <= free) return 0;
  return Math.min(POW_MAX_LEVEL, Math.floor(Math.log2(count / free)) + 1);
}

/** The counter range [min, max) a level draws from: the expected number of guesses is about 1.5·min. */
export function counterRange(level: number): { min: number; max: number } {
  const min = POW_BASE_COUNTER * POW_LEVEL_FACTOR ** level;
  return { min, max: 2 * min };
}

/** The payload the ALTCHA widget submits: base64 of the JSON {challenge, solution}; null when it is not one. */
export function parsePowPayload(base64: string): PowPayload | null {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
    if (typeof decoded !== 'object' || decoded === null) return null;
    const { challenge, solution } = decoded as Partial<PowPayload>;
    if (typeof challenge !== 'object' || challenge === null || typeof challenge.parameters !== 'object' || challenge.parameters === null) return null;
    if (typeof solution !== 'object' || solution === null) return null;
    if (typeof challenge.parameters.nonce !== 'string' || !/^[0-9a-f]{32}$/.test(challenge.parameters.nonce)) return null;
    return { challenge, solution };
  } catch {
    return null;
  }
}

/** altcha-lib's two HMAC secrets (the challenge's signature, the derived key's), derived from the service secret. */
export function powSecrets(secret: string): { hmacSignatureSecret: string; hmacKeySignatureSecret: string } {
  return { hmacSignatureSecret: hmacHex(secret, 'altcha-challenge'), hmacKeySignatureSecret: hmacHex(secret, 'altcha-key') };
}

export class ProofOfWork {
  private readonly signatureSecret: string;
  private readonly keySignatureSecret: string;

  constructor(private readonly options: ProofOfWorkOptions) {
    const secrets = powSecrets(options.secret);
    this.signatureSecret = secrets.hmacSignatureSecret;
    this.keySignatureSecret = secrets.hmacKeySignatureSecret;
  }

  private key(nonce: string): string {
    return `altcha:${nonce}`;
  }

  private phoneKey(phone: string): string {
    return `altcha:phone:${hmacHex(this.options.secret, 'altcha-phone', phone)}`;
  }

  /** Counts one request of the window for the address (exempt addresses count nothing) and returns its level. */
  private async addressLevel(client: LimitedClient | undefined): Promise<number> {
    if (client === undefined || client.exempt) return 0;
    const { value } = await this.options.kv.increment(`altcha:address:${client.network}`, POW_WINDOW_MS);
    return levelForCount(value, this.options.freePerAddress ?? POW_FREE_PER_ADDRESS);
  }

  /** The level the phone number's requests of the window call for, without counting one. */
  private async phoneLevel(phone: string): Promise<number> {
    const stored = await this.options.kv.get(this.phoneKey(phone));
    return levelForCount(stored === null ? 0 : Number(stored) || 0, POW_FREE_PER_PHONE);
  }

  /**
   * A new signed challenge, in altcha-lib's JSON. Its level is the higher of what the address's challenge
   * requests and what the phone number's uses call for (`phone`, when the page knows it already).
   */
  async issue(purpose: CaptchaPurpose, client?: LimitedClient, phone?: string): Promise<Challenge> {
    const limits = this.options.rateLimits;
    if (limits && client !== undefined) await limits.enforceForClient(limits.captchaPerIp, client);
    const level = Math.max(await this.addressLevel(client), phone === undefined ? 0 : await this.phoneLevel(phone));
    return this.challengeAt(purpose, level);
  }

  /** A new challenge of a given difficulty level, registered in the store (the benchmark's way in). */
  async challengeAt(purpose: CaptchaPurpose, level: number): Promise<Challenge> {
    const { min, max } = counterRange(level);
    const ttlMs = this.options.ttlSeconds * 1000;
    const challenge = await createChallenge({
      algorithm: POW_ALGORITHM,
      cost: POW_COST,
      counter: randomInt(max - 1, min),
      deriveKey,
      data: { purpose, level },
      expiresAt: Math.ceil((Date.now() + ttlMs) / 1000),
      hmacSignatureSecret: this.signatureSecret,
      hmacKeySignatureSecret: this.keySignatureSecret,
    });
    await this.options.kv.put(this.key(challenge.parameters.nonce), purpose, ttlMs);
    return challenge;
  }

  /**
   * Checks a submitted payload for `use`. A payload that is not a solution of a challenge signed here
   * costs nothing; a solution is taken from the store atomically, so of concurrent submissions of one
   * payload, on any process, at most one passes. With `phone`, counts one use for that number and
   * refuses a challenge easier than its uses call for.
   */
  async check(base64: string, use: CaptchaUse, phone?: string): Promise<CaptchaOutcome | 'too_easy'> {
    const payload = parsePowPayload(base64);
    if (payload === null) return 'wrong';
    let result;
    try {
      result = await verifySolution({
        challenge: payload.challenge,
        solution: payload.solution,
        deriveKey,
        hmacSignatureSecret: this.signatureSecret,
        hmacKeySignatureSecret: this.keySignatureSecret,
      });
    } catch {
      return 'wrong';
    }
    if (result.expired) return 'expired';
    if (!result.verified) return 'wrong';
    const data = payload.challenge.parameters.data ?? {};
    if (phone !== undefined) {
      const { value } = await this.options.kv.increment(this.phoneKey(phone), POW_WINDOW_MS);
      if (Number(data.level ?? 0) < levelForCount(value, POW_FREE_PER_PHONE)) return 'too_easy';
    }
    const stored = await this.options.kv.takeOnce(this.key(payload.challenge.parameters.nonce));
    if (stored === null) return 'expired';
    // The purpose is signed inside the challenge and stored beside it: both must allow this use.
    if ((stored !== 'any' && stored !== use) || data.purpose !== stored) return 'wrong';
    return 'ok';
  }

  /** check(), throwing the API error for anything but a valid, unused solution for this use. */
  async verify(base64: string, use: CaptchaUse, phone?: string): Promise<void> {
    const outcome = await this.check(base64, use, phone);
    if (outcome === 'expired') throw new AppError('CAPTCHA_EXPIRED');
    if (outcome === 'wrong') throw new AppError('CAPTCHA_INVALID');
    if (outcome === 'too_easy') throw new AppError('CAPTCHA_TOO_EASY');
  }
}
