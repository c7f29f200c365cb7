// A PostgreSQL read replica for the reads that may be a moment old (scale-out mode, optional).
//
// Streaming replicas lag the primary, usually by milliseconds, sometimes by minutes (a long query on
// the replica, a network hiccup, replay paused). So a read goes to the replica only while a monitor
// has recently seen it answer and replay within the allowed lag; otherwise, and whenever the replica
// fails mid-read, the same read runs on the primary. A replica that is down or behind costs
// freshness nothing and availability nothing: the primary serves everything it would have.
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database, Db } from './database.js';
import { isStoreOutage } from './errors.js';
import { pgPoolOptions } from './postgres.js';
import type { DatabaseSchema } from './schema.js';

export type ReplicaState = 'ok' | 'lagging' | 'down';

export interface ReplicaStatus {
  state: ReplicaState;
  /** Seconds the replica's replay is behind what it has received; undefined while it does not answer. */
  lagSeconds: number | undefined;
  /** Lag-tolerant reads served so far, by where they ran. */
  reads: { replica: number; primary: number };
}

export interface ReplicaOptions {
  url: string;
  maxLagSeconds: number;
  poolSize?: number;
  /** How often the monitor asks the replica for its lag. */
  checkIntervalMs?: number;
  /** A replica slower than this to answer the monitor counts as down. */
  checkTimeoutMs?: number;
}

// Replay is caught up with what the replica has received (receive = replay): lag 0, however long ago
// the last transaction was (an idle primary sends nothing). Otherwise: how old the last replayed
// transaction is. The usual formula for a standby's own view of its lag.
const LAG_QUERY = sql<{ in_recovery: boolean; lag: number | null }>`
  select pg_is_in_recovery() as in_recovery,
         case when pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() then 0
              else extract(epoch from now() - pg_last_xact_replay_timestamp())::float8 end as lag`;

/** Wraps a PostgreSQL Database so that its lag-tolerant reads use the replica while it is healthy. */
export function withReadReplica(primary: Database, options: ReplicaOptions): Database {
  const checkTimeoutMs = options.checkTimeoutMs ?? 2_000;
  // A replica that takes long to connect is treated as down (the read falls back) rather than waited for.
  const pool = new pg.Pool({ ...pgPoolOptions({ url: options.url, poolSize: options.poolSize, timeoutMs: 10_000 }), connectionTimeoutMillis: checkTimeoutMs });
  pool.on('error', () => undefined);
  const replicaDb: Db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });

  const status: ReplicaStatus = { state: 'down', lagSeconds: undefined, reads: { replica: 0, primary: 0 } };
  let checking: Promise<void> | undefined;
  async function check(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = await Promise.race([
        LAG_QUERY.execute(replicaDb),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('replica check timed out')), checkTimeoutMs);
        }),
      ]);
      const row = answer.rows[0]!;
      status.lagSeconds = Math.max(0, Number(row.lag ?? 0));
      // A "replica" that is not in recovery is a primary of its own (promoted, or misconfigured):
      // its data is not the primary's, so it serves nothing.
      status.state = row.in_recovery && status.lagSeconds <= options.maxLagSeconds ? 'ok' : 'lagging';
    } catch {
      status.state = 'down';
      status.lagSeconds = undefined;
    } finally {
      clearTimeout(timer);
    }
  }
  const monitor = () => {
    checking ??= check().finally(() => {
      checking = undefined;
    });
    return checking;
  };
  const interval = setInterval(monitor, options.checkIntervalMs ?? 1_000);
  // The monitor must not keep a process alive that is otherwise done.
  interval.unref();
  void monitor();

  async function readMayLag<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    if (status.state === 'ok') {
      try {
        const result = await fn(replicaDb);
        status.reads.replica++;
        return result;
      } catch (error) {
        if (!isReplicaFailure(error)) throw error;
        // Stop sending reads there until the monitor sees it answer again.
        status.state = 'down';
      }
    }
    status.reads.primary++;
    return primary.readMayLag(fn);
  }

  return {
    ...primary,
    readMayLag,
    replica: { status: () => ({ ...status, reads: { ...status.reads } }) },
    async close() {
      clearInterval(interval);
      await checking;
      await Promise.allSettled([replicaDb.destroy(), primary.close()]);
    },
  };
}

/** The replica could not answer this read, though the primary may: worth running it there. */
function isReplicaFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // 40001: cancelled by a conflict with recovery (replay needed what the read was using);
  // 57014: cancelled by the statement timeout.
  return isStoreOutage(error) || code === '40001' || code === '57014';
}
