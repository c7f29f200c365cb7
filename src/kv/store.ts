// The shared ephemeral store: captchas, SMS codes, counters, cache entries. Every worker process and
// every server sees the same store; nothing here lives only in one process's memory (except the
// memory backend, which exists for single-process tests).

export interface Counter {
  /** The count after this increment. */
  value: number;
  /** Milliseconds until the counter resets. */
  ttlMs: number;
}

export type KvBackend = 'memory' | 'sqlite' | 'redis';

export interface KeyValueStore {
  readonly backend: KvBackend;
  /**
   * The backend's own client (better-sqlite3 Database, ioredis client; nothing for memory), for libraries that speak
   * to the store directly, such as rate-limiter-flexible.
   */
  readonly native: unknown;
  /** Stores value under key for ttlMs, replacing what was there. */
  put(key: string, value: string, ttlMs: number): Promise<void>;
  /** Returns the live value or null. */
  get(key: string): Promise<string | null>;
  /**
   * Atomically reads and removes key: of any number of concurrent callers, on any process, at most
   * one receives the value. Expired entries are never returned.
   */
  takeOnce(key: string): Promise<string | null>;
  delete(key: string): Promise<void>;
  /** Adds one to a counter; a missing or expired counter starts at 1 with a fresh ttlMs. */
  increment(key: string, ttlMs: number): Promise<Counter>;
  /** For readiness: resolves when the store answers (Redis: takes a write, which a replica refuses); rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
