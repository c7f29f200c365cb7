// Embedded backend: a SQLite file of its own beside the durable one, so that captcha traffic never
// queues behind account writes. Every statement is a single atomic statement; take-once is
// DELETE … RETURNING, which SQLite runs under its write lock, so one caller at most gets the row.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import BetterSqlite3 from 'better-sqlite3';
import { AppError } from '../errors.js';
import { isBusy } from '../db/store-errors.js';
import { withStatementCache } from '../db/statement-cache.js';
import type { Counter, KeyValueStore } from './store.js';

export interface SqliteStoreOptions {
  file: string;
  now?: () => number;
  /** How often this process sweeps expired rows. */
  sweepIntervalMs?: number;
  busyDeadlineMs?: number;
}

export function createSqliteStore(options: SqliteStoreOptions): KeyValueStore {
  mkdirSync(path.dirname(options.file), { recursive: true });
  const now = options.now ?? Date.now;
  const raw = new BetterSqlite3(options.file);
  raw.pragma('journal_mode = WAL');
  // Ephemeral data: losing the last commits in a power cut only costs a user a new captcha.
  raw.pragma('synchronous = NORMAL');
  // Every worker of a new data directory creates the table at once: these waits are allowed the
  // driver's default busy timeout (5 s), since a worker that failed here would exit and be restarted.
  raw.exec(`CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID`);
  raw.exec('CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires_at)');
  // From here on a busy database is retried by this module (with jitter), not waited for inside SQLite.
  raw.pragma('busy_timeout = 5');

  const putStmt = raw.prepare(
    'INSERT INTO kv (key, value, expires_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at',
  );
  const getStmt = raw.prepare('SELECT value FROM kv WHERE key = ? AND expires_at > ?').pluck();
  const takeStmt = raw.prepare('DELETE FROM kv WHERE key = ? RETURNING value, expires_at');
  const deleteStmt = raw.prepare('DELETE FROM kv WHERE key = ?');
  const incrementStmt = raw.prepare(`INSERT INTO kv (key, value, expires_at) VALUES (@key, '1', @expires)
    ON CONFLICT(key) DO UPDATE SET
      value = CASE WHEN kv.expires_at <= @now THEN '1' ELSE CAST(CAST(kv.value AS INTEGER) + 1 AS TEXT) END,
      expires_at = CASE WHEN kv.expires_at <= @now THEN @expires ELSE kv.expires_at END
    RETURNING value, expires_at`);
  const sweepStmt = raw.prepare('DELETE FROM kv WHERE expires_at <= ?');

  const deadlineMs = options.busyDeadlineMs ?? 5_000;
  // A short busy_timeout plus async retries: a worker waiting for another process's write lock
  // keeps serving its other requests instead of blocking its event loop.
  async function run<T>(statement: () => T): Promise<T> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return statement();
      } catch (error) {
        if (!isBusy(error)) throw error;
        if (Date.now() - started > deadlineMs) throw new AppError('STORE_UNAVAILABLE', { retryAfterSeconds: 1, cause: error });
        await sleep(Math.random() * Math.min(20, 1 + 2 ** attempt));
      }
    }
  }

  const sweeper = setInterval(() => {
    run(() => sweepStmt.run(now())).catch(() => undefined);
  }, options.sweepIntervalMs ?? 60_000);
  sweeper.unref();

  return {
    backend: 'sqlite',
    native: withStatementCache(raw),
    async put(key, value, ttlMs) {
      await run(() => putStmt.run(key, value, now() + ttlMs));
    },
    async get(key) {
      return ((await run(() => getStmt.get(key, now()))) as string | undefined) ?? null;
    },
    async takeOnce(key) {
      const row = (await run(() => takeStmt.get(key))) as { value: string; expires_at: number } | undefined;
      if (!row || row.expires_at <= now()) return null;
      return row.value;
    },
    async delete(key) {
      await run(() => deleteStmt.run(key));
    },
    async increment(key, ttlMs): Promise<Counter> {
      const at = now();
      const row = (await run(() => incrementStmt.get({ key, now: at, expires: at + ttlMs }))) as {
        value: string;
        expires_at: number;
      };
      return { value: Number(row.value), ttlMs: row.expires_at - at };
    },
    async ping() {
      await run(() => raw.prepare('SELECT 1').get());
    },
    async close() {
      clearInterval(sweeper);
      raw.close();
    },
  };
}
