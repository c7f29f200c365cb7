// Account lockout: N wrong passwords for one account within a window lock it for a while. Counted in
// the shared store, so failures spread over any number of workers and servers lock at exactly N.
import { AppError } from '../errors.js';
import { createLimiter, type Limiter } from '../kv/rate-limiter.js';
import type { KeyValueStore } from '../kv/store.js';
import type { Metrics } from '../observability/metrics.js';

export interface LockoutOptions {
  maxFailures: number;
  windowSeconds: number;
  lockSeconds: number;
}

function lockedError(msBeforeNext: number): AppError {
  return new AppError('ACCOUNT_LOCKED', { retryAfterSeconds: Math.max(1, Math.ceil(msBeforeNext / 1000)), details: { attempts_left: 0 } });
}

export class Lockout {
  private readonly failures: Limiter;

  constructor(kv: KeyValueStore, private readonly options: LockoutOptions, private readonly metrics?: Metrics) {
    this.failures = createLimiter(kv, 'lockout', 'account', { points: options.maxFailures, seconds: options.windowSeconds });
  }

  /** 423 ACCOUNT_LOCKED while the account is locked; checked before any password work. */
  async assertNotLocked(account: string): Promise<void> {
    const state = await this.failures.get(account);
    if (state && state.consumed >= this.options.maxFailures) throw lockedError(state.msBeforeNext);
  }

  /**
   * Counts a wrong password. Always throws: 401 with attempts_left, or 423 when this failure locks.
   * `field` names the request field that held the password, when it was not a login's.
   */
  async recordFailure(account: string, field?: { name: string; message: string }): Promise<never> {
    const result = await this.failures.consume(account);
    if (result.allowed && result.remaining > 0) {
      throw new AppError('INVALID_CREDENTIALS', { ...(field ? { message: field.message } : {}), details: { attempts_left: result.remaining, ...(field ? { field: field.name } : {}) } });
    }
    if (result.consumed === this.options.maxFailures) {
      await this.failures.block(account, this.options.lockSeconds);
      this.metrics?.lockouts.inc();
      throw lockedError(this.options.lockSeconds * 1000);
    }
    throw lockedError(result.msBeforeNext);
  }

  /** For the console: wrong passwords counted in the current window, and how long a lock still lasts. */
  async status(account: string): Promise<{ failures: number; lockedForMs: number }> {
    const state = await this.failures.get(account);
    if (!state) return { failures: 0, lockedForMs: 0 };
    const locked = state.consumed >= this.options.maxFailures;
    return { failures: Math.min(state.consumed, this.options.maxFailures), lockedForMs: locked ? state.msBeforeNext : 0 };
  }

  /** After a successful login, and an administrator's unlock. */
  async reset(account: string): Promise<void> {
    await this.failures.delete(account);
  }
}
