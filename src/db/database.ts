// The durable store: one Kysely instance per process, over SQLite (embedded mode) or PostgreSQL.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { AppError } from '../errors.js';
import { isBusy } from './store-errors.js';
import { GroupCommitter } from './group-commit.js';
import { withStatementCache } from './statement-cache.js';
import type { ReplicaStatus } from './replica.js';
import type { DatabaseSchema } from './schema.js';

export type Db = Kysely<DatabaseSchema>;

/** Whether a read must see every write made so far ('latest') or may be a moment old ('may-lag'). */
export type Freshness = 'latest' | 'may-lag';

export interface Database {
  readonly db: Db;
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Runs fn in a write transaction. SQLite: BEGIN IMMEDIATE, so the write lock is taken up front and a
   * busy database is retried here (with jitter) instead of failing half-way through a transaction.
   */
  write<T>(fn: (trx: Db) => Promise<T>): Promise<T>;
  /**
   * Runs fn inside a shared write transaction with other writes submitted meanwhile (group commit):
   * one fsync for many writes. fn's changes are all-or-nothing; it resolves once they are on disk.
   */
  batched<T>(fn: (trx: Db) => Promise<T>): Promise<T>;
  /**
   * Runs a read whose result may be a moment old (a list, a search, a count for display): on a
   * PostgreSQL read replica when one is configured and caught up within its allowed lag, else here.
   * Never for a read that must see a write just made (a session, a quota, a login).
   */
  readMayLag<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  /** SQLite: retries a single autocommit statement while another process holds the write lock. */
  retrying<T>(fn: () => Promise<T>): Promise<T>;
  /** The read replica's health and use, when one is configured. */
  readonly replica?: { status(): ReplicaStatus };
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Runs a read at the freshness asked for (see Database.readMayLag). */
export function readAt<T>(database: Database, freshness: Freshness, fn: (db: Db) => Promise<T>): Promise<T> {
  return freshness === 'may-lag' ? database.readMayLag(fn) : fn(database.db);
}

export interface SqliteOptions {
  file: string;
  /** How long SQLite itself waits for a lock before reporting busy (blocks the event loop: keep short). */
  busyTimeoutMs?: number;
  /** How long, in all, a write keeps retrying a busy database before giving up with 503. */
  busyDeadlineMs?: number;
}

export function openSqlite(options: SqliteOptions): Database {
  mkdirSync(path.dirname(options.file), { recursive: true });
  const raw = new BetterSqlite3(options.file);
  raw.pragma('journal_mode = WAL');
  // FULL: a commit is on disk before a 201 is sent.
  raw.pragma('synchronous = FULL');
  raw.pragma('foreign_keys = ON');
  raw.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5}`);
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) });
  const deadlineMs = options.busyDeadlineMs ?? 15_000;

  async function retrying<T>(fn: () => Promise<T>): Promise<T> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (!isBusy(error)) throw error;
        if (Date.now() - started > deadlineMs) {
          throw new AppError('STORE_UNAVAILABLE', { retryAfterSeconds: 1, cause: error });
        }
        // Full jitter, capped: contending writers spread out instead of retrying in lockstep.
        await sleep(Math.random() * Math.min(50, 2 + 2 ** attempt));
      }
    }
  }

  // The retry wraps the connection checkout, so that while this process waits for another's write
  // lock its own reads keep using the (single) connection.
  function write<T>(fn: (trx: Db) => Promise<T>): Promise<T> {
    return retrying(() =>
      db.connection().execute(async (connection) => {
        await sql`begin immediate`.execute(connection);
        try {
          const result = await fn(connection);
          await sql`commit`.execute(connection);
          return result;
        } catch (error) {
          await sql`rollback`.execute(connection).catch(() => undefined);
          throw error;
        }
      }),
    );
  }
  const committer = new GroupCommitter(write);

  return {
    db,
    dialect: 'sqlite',
    retrying,
    write,
    batched: (fn) => committer.submit(fn),
    readMayLag: (fn) => fn(db),
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}
