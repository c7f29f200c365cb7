// PostgreSQL (scale-out mode): a pg pool per process behind the same Database interface.
import { Kysely, PostgresDialect, sql, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import { AppError } from '../errors.js';
import type { Database, Db } from './database.js';
import { isConnectionFailure, isStoreOutage } from './store-errors.js';
import type { DatabaseSchema } from './schema.js';

export interface PostgresOptions {
  url: string;
  poolSize?: number;
  /** How long a request may wait for a connection (or a statement may run) before 503. */
  timeoutMs?: number;
}

const INT8_OID = 20;

/**
 * A pg pool as the primary and a read replica both use it. A connection that the server drops
 * (restart, crash, failover) emits 'error' on its client; pg-pool listens only while the client is
 * idle, and an 'error' with no listener ends the process. So every client gets its own listener: the
 * query in flight fails (and answers 503), the broken client is dropped on release, the next query
 * reconnects, and the worker lives on.
 */
export function createPgPool(options: PostgresOptions & { connectTimeoutMs?: number }): pg.Pool {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? timeoutMs,
    statement_timeout: timeoutMs,
    query_timeout: timeoutMs,
    // Times are bigint milliseconds: well inside Number's exact range, so read them as numbers.
    types: { getTypeParser: ((oid: number, format?: string) => (oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser },
  });
  pool.on('connect', (client) => client.on('error', ignoreDroppedConnection));
  pool.on('error', ignoreDroppedConnection);
  return pool;
}

/** The failure reaches whoever was waiting for the connection; nothing more to do with it here. */
function ignoreDroppedConnection(): void {}

/**
 * Kysely's view of a pg pool, with what a failover needs of it:
 * - A connection whose query timed out on this side is stuck — the server froze or vanished without
 *   closing it (a machine that lost power or its network), its query is still owed an answer, and
 *   every later query on it would wait as long — so it is closed when released, never reused.
 * - (primaryOnly) A failover moves the primary's address (DNS) to the promoted server; a connection
 *   opened before every resolver has caught up reaches the old primary, restarted as a standby, which
 *   answers reads and refuses every write (25006), and a pool under steady traffic would keep it for
 *   good. So each new connection is asked once whether it leads to a standby; one that does is
 *   closed, and its request gets 503 until the address leads to the primary again.
 */
export function failoverAwarePool(pool: pg.Pool, options: { primaryOnly: boolean }): PostgresPool {
  const checked = new WeakSet<pg.PoolClient>();

  async function refuseStandby(client: pg.PoolClient): Promise<void> {
    let standby: boolean;
    try {
      standby = (await client.query<{ standby: boolean }>('select pg_is_in_recovery() as standby')).rows[0]!.standby;
    } catch (error) {
      client.release(true);
      throw error;
    }
    if (standby) {
      client.release(true);
      throw new AppError('STORE_UNAVAILABLE', { retryAfterSeconds: 1, cause: new Error('DATABASE_URL leads to a standby (read-only), not to the primary') });
    }
    checked.add(client);
  }

  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      if (options.primaryOnly && !checked.has(client)) await refuseStandby(client);
      let broken = false;
      const noteFailure = (error: unknown) => {
        if (isConnectionFailure(error)) broken = true;
      };
      return {
        query: ((...args: Parameters<pg.PoolClient['query']>) => {
          const result: unknown = client.query(...args);
          if (result instanceof Promise) result.catch(noteFailure);
          return result;
        }) as PostgresPoolClient['query'],
        release: () => client.release(broken),
      };
    },
    end: () => pool.end(),
  };
}

export function openPostgres(options: PostgresOptions): Database {
  const pool = failoverAwarePool(createPgPool(options), { primaryOnly: true });
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });

  async function unavailableOnFailure<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (isStoreOutage(error)) throw new AppError('STORE_UNAVAILABLE', { retryAfterSeconds: 1, cause: error });
      throw error;
    }
  }

  const write = <T>(fn: (trx: Db) => Promise<T>) => unavailableOnFailure(() => db.transaction().execute(fn));
  return {
    db,
    dialect: 'postgres',
    write,
    // PostgreSQL commits concurrent transactions in parallel (and groups their WAL flushes itself).
    batched: write,
    retrying: unavailableOnFailure,
    readMayLag: (fn) => fn(db),
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}
