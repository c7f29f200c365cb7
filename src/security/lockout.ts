// Account lockout that hurts the one guessing, not the owner. Wrong passwords (and wrong second-factor
// codes) are counted per account *and* per client:
//
// - Clients the account does not know (no known-device cookie for it: security/known-devices.ts)
//   share one count per account. N wrong within the window lock them out for LOCKOUT_SECONDS, and
//   each further lock within LOCKOUT_MAX_SECONDS of the previous one's end lasts twice as long (up to
//   LOCKOUT_MAX_SECONDS): a patient attacker's guesses per day shrink to a handful.
// - A device in which the account has signed in counts on its own, so a stranger's failures never
//   reach it; its own N wrong passwords make it wait LOCKOUT_KNOWN_DEVICE_SECONDS, doubling likewise
//   — a delay for a mistyping owner, not a lock.
// - A sign-in whose SMS code was right holds a proof of the phone, and its second-factor step counts
//   on its own too (counterForProof): N tries per challenge, whatever strangers did.
//
// Each count lives in the shared store and is consumed atomically, so failures spread over any number
// of workers and servers lock at exactly N.
import { AppError } from '../errors.js';
import { createLimiter, type Limiter } from '../kv/rate-limiter.js';
import type { KeyValueStore } from '../kv/store.js';
import type { Metrics } from '../observability/metrics.js';
import type { KnownDevices } from './known-devices.js';

export interface LockoutOptions {
  maxFailures: number;
  windowSeconds: number;
  /** The first lock of an account for the clients it does not know. */
  lockSeconds: number;
  /** The first wait of a device the account knows. */
  knownDeviceSeconds: number;
  /** No lock or wait grows longer; a backoff is forgotten this long after its last lock ended. */
  maxLockSeconds: number;
}

/** What the lockout needs of a client: the known-device cookie it sent, if any. */
export interface LockoutClient {
  deviceCookie?: string | undefined;
}

function lockedError(msBeforeNext: number): AppError {
  return new AppError('ACCOUNT_LOCKED', { retryAfterSeconds: Math.max(1, Math.ceil(msBeforeNext / 1000)), details: { attempts_left: 0 } });
}

/** One count of wrong attempts: the account's for unknown clients, or a known device's (or a proof's) own. */
export interface LockoutCounter {
  /** Whether this is a known device's (or a proof's) own count rather than the account's shared one. */
  readonly ownCount: boolean;
  /** 423 ACCOUNT_LOCKED while this count is locked; checked before any password work. */
  assertNotLocked(): Promise<void>;
  /**
   * Counts a wrong password or code. Always throws: 401 with attempts_left, or 423 when this failure
   * locks. `field` names the request field that held it, when it was not a login's password.
   */
  recordFailure(field?: { name: string; message: string }): Promise<never>;
  /**
   * After a complete sign-in through this count: it starts again, and so does the account's count for
   * unknown clients (the owner is in: their earlier typos, or a stranger's lock, no longer stand in the
   * way). The account's backoff is kept, so that a stranger's next lock is still the longer one.
   */
  succeeded(): Promise<void>;
}

export class Lockout {
  private readonly accountFailures: Limiter;
  private readonly ownFailures: Limiter;

  constructor(
    private readonly kv: KeyValueStore,
    private readonly options: LockoutOptions,
    private readonly knownDevices: KnownDevices,
    private readonly metrics?: Metrics,
  ) {
    const window = { points: options.maxFailures, seconds: options.windowSeconds };
    this.accountFailures = createLimiter(kv, 'lockout', 'account', window);
    this.ownFailures = createLimiter(kv, 'lockout_device', 'account', window);
  }

  /** Whose count an attempt at `account` by `client` goes to: its own when the account knows the device, else the account's shared one. */
  counter(account: string, client: LockoutClient): LockoutCounter {
    const device = this.knownDevices.deviceFor(account, client.deviceCookie);
    if (device) return this.counterOf(account, this.ownFailures, `${account}|device:${device}`, this.options.knownDeviceSeconds);
    return this.counterOf(account, this.accountFailures, account, this.options.lockSeconds);
  }

  /**
   * A count of its own for an attempt that holds a proof besides (`proof`: e.g. the hash of a sign-in
   * challenge whose SMS code was right), whatever the client: strangers' failures do not lock it. Its
   * lock is as long as the account's, so a short-lived proof gets N tries and no more.
   */
  counterForProof(account: string, proof: string): LockoutCounter {
    return this.counterOf(account, this.ownFailures, `${account}|proof:${proof}`, this.options.lockSeconds);
  }

  /** For the console: wrong passwords by unknown clients counted in the current window, and how long their lock still lasts. */
  async status(account: string): Promise<{ failures: number; lockedForMs: number }> {
    const state = await this.accountFailures.get(account);
    if (!state) return { failures: 0, lockedForMs: 0 };
    const locked = state.consumed >= this.options.maxFailures;
    return { failures: Math.min(state.consumed, this.options.maxFailures), lockedForMs: locked ? state.msBeforeNext : 0 };
  }

  /** An administrator's unlock (and a deleted account, a reset password): the account's count and its backoff. */
  async reset(account: string): Promise<void> {
    await this.forget(this.accountFailures, account);
  }

  private counterOf(account: string, limiter: Limiter, key: string, firstLockSeconds: number): LockoutCounter {
    const ownCount = limiter === this.ownFailures;
    return {
      ownCount,
      assertNotLocked: async () => {
        const state = await limiter.get(key);
        if (state && state.consumed >= limiter.points) throw lockedError(state.msBeforeNext);
      },
      recordFailure: async (field) => {
        const result = await limiter.consume(key);
        if (result.allowed && result.remaining > 0) {
          throw new AppError('INVALID_CREDENTIALS', { ...(field ? { message: field.message } : {}), details: { attempts_left: result.remaining, ...(field ? { field: field.name } : {}) } });
        }
        // Exactly one failure per window is the Nth, on whichever worker: it alone sets the lock's length.
        if (result.consumed === limiter.points) {
          const seconds = await this.nextLockSeconds(key, firstLockSeconds);
          await limiter.block(key, seconds);
          if (!ownCount) this.metrics?.lockouts.inc();
          throw lockedError(seconds * 1000);
        }
        throw lockedError(result.msBeforeNext);
      },
      succeeded: async () => {
        await Promise.all([ownCount ? this.forget(limiter, key) : undefined, this.accountFailures.delete(account)]);
      },
    };
  }

  /** The length of a count's next lock: the first, doubled for each earlier lock still remembered, at most maxLockSeconds. */
  private async nextLockSeconds(key: string, firstSeconds: number): Promise<number> {
    const levelKey = this.levelKey(key);
    // Read and written by the one failure that locks, so no two requests race on it.
    const level = Number(await this.kv.get(levelKey)) + 1 || 1;
    const seconds = Math.min(firstSeconds * 2 ** Math.min(level - 1, 30), this.options.maxLockSeconds);
    await this.kv.put(levelKey, String(level), (seconds + this.options.maxLockSeconds) * 1000);
    return seconds;
  }

  /** A count and its backoff. */
  private async forget(limiter: Limiter, key: string): Promise<void> {
    await Promise.all([limiter.delete(key), this.kv.delete(this.levelKey(key))]);
  }

  private levelKey(key: string): string {
    return `lockout-level:${key}`;
  }
}
