// Rate limits and failure counters with rate-limiter-flexible, on the same shared store as the rest
// of the ephemeral state, so that a limit holds across every worker and server.
import { setTimeout as sleep } from 'node:timers/promises';
import type BetterSqlite3 from 'better-sqlite3';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, RateLimiterSQLite, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '../errors.js';
import { isBusy } from '../db/store-errors.js';
import type { KeyValueStore } from './store.js';

export interface LimitState {
  /** Points used in the current window, this request included. */
  consumed: number;
  remaining: number;
  /** Milliseconds until the window (or block) ends. */
  msBeforeNext: number;
}

/**
 * What a limit counts: a client's network (a whole school behind one address meets it together, and an
 * administrator can lift it), one account, one phone number, or one API key.
 */
export const LIMIT_SCOPES = ['address', 'account', 'phone', 'api_key'] as const;
export type LimitScope = (typeof LIMIT_SCOPES)[number];

export interface Limiter {
  readonly name: string;
  readonly scope: LimitScope;
  readonly points: number;
  /** Uses points; `allowed` is false once the window's points are spent. */
  consume(key: string, points?: number): Promise<LimitState & { allowed: boolean }>;
  /** The current state without using a point; null when nothing was used. */
  get(key: string): Promise<LimitState | null>;
  /** Gives back points used in the current window (a reservation that came to nothing). */
  reward(key: string, points?: number): Promise<void>;
  /** Spends every point for `seconds` (a lockout). */
  block(key: string, seconds: number): Promise<void>;
  delete(key: string): Promise<void>;
}

const SQLITE_TABLE = 'rate_limits';

function backendLimiter(kv: KeyValueStore, name: string, points: number, seconds: number): RateLimiterAbstract {
  const common = { keyPrefix: name, points, duration: seconds };
  if (kv.backend === 'sqlite') {
    const db = kv.native as BetterSqlite3.Database;
    db.exec(`CREATE TABLE IF NOT EXISTS ${SQLITE_TABLE} (key TEXT PRIMARY KEY, points INTEGER NOT NULL DEFAULT 0, expire INTEGER)`);
    return new RateLimiterSQLite({ ...common, storeClient: db, storeType: 'better-sqlite3', tableName: SQLITE_TABLE, tableCreated: true, clearExpiredByTimeout: true });
  }
  if (kv.backend === 'redis') {
    // Fail closed: no insurance limiter in memory, which would let a client past the shared limit.
    return new RateLimiterRedis({ ...common, storeClient: kv.native, rejectIfRedisNotReady: true });
  }
  // One process only: for tests and single-process debugging. Limiters of one name on one store share
  // their counters, as they do on the shared backends (an API and a task handler built on one store).
  const store = (kv.native ?? kv) as object;
  let named = memoryLimiters.get(store);
  if (!named) memoryLimiters.set(store, (named = new Map()));
  const id = `${name}|${points}|${seconds}`;
  let limiter = named.get(id);
  if (!limiter) named.set(id, (limiter = new RateLimiterMemory(common)));
  return limiter;
}

const memoryLimiters = new WeakMap<object, Map<string, RateLimiterMemory>>();

function toState(res: RateLimiterRes): LimitState {
  return { consumed: res.consumedPoints, remaining: res.remainingPoints, msBeforeNext: Math.max(0, res.msBeforeNext) };
}

export function createLimiter(kv: KeyValueStore, name: string, scope: LimitScope, limit: { points: number; seconds: number }): Limiter {
  const limiter = backendLimiter(kv, name, limit.points, limit.seconds);

  // A store error is a 503 (fail closed: no limit is skipped because the store is down); a busy
  // SQLite file is retried briefly first.
  async function call<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (error instanceof RateLimiterRes) throw error;
        if (isBusy(error) && attempt < 50) {
          await sleep(Math.random() * Math.min(20, 1 + 2 ** attempt));
          continue;
        }
        throw new AppError('STORE_UNAVAILABLE', { retryAfterSeconds: 1, cause: error });
      }
    }
  }

  return {
    name,
    scope,
    points: limit.points,
    async consume(key, points = 1) {
      try {
        return { allowed: true, ...toState(await call(() => limiter.consume(key, points))) };
      } catch (error) {
        if (error instanceof RateLimiterRes) return { allowed: false, ...toState(error) };
        throw error;
      }
    },
    async get(key) {
      const res = await call(() => limiter.get(key));
      return res ? toState(res) : null;
    },
    async reward(key, points = 1) {
      await call(() => limiter.reward(key, points));
    },
    async block(key, seconds) {
      await call(() => limiter.block(key, seconds));
    },
    async delete(key) {
      await call(() => limiter.delete(key));
    },
  };
}
