// A PostgreSQL read replica for the reads that may be a moment old (scale-out mode, optional).
//
// Streaming replicas lag the primary, usually by milliseconds, sometimes by minutes (a long query on
// the replica, a network partition, replay paused). So a read goes to the replica only while it is
// known to hold everything the primary had committed at most `maxLagSeconds` ago; otherwise, and
// whenever the replica fails mid-read, the same read runs on the primary. A replica that is down or
// behind costs neither freshness nor availability: the primary serves everything it would have.
//
// How fresh the replica is, is measured against the primary, not by the replica about itself (its
// own view — received WAL against replayed WAL — cannot see a partition that stops it receiving):
// each second a monitor reads the primary's WAL position, then the replica's replay position. The
// replica holds everything committed before the newest sample of the primary's position that it
// has replayed; its lag is the age of that sample, growing by itself while the monitor gets no
// answer. Only this process's clock is used, so clock skew between machines cannot hide a lag.
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Database, Db } from './database.js';
import { isStoreOutage } from './store-errors.js';
import { createPgPool, failoverAwarePool } from './postgres.js';
import type { DatabaseSchema } from './schema.js';

/** ok: takes reads; lagging: answers but is too far behind; down: does not answer; not_standby: answers but is not a replica (promoted?). */
export type ReplicaState = 'ok' | 'lagging' | 'down' | 'not_standby';

export interface ReplicaStatus {
  state: ReplicaState;
  /** How old the newest data the replica is known to hold may be; undefined until it has answered once. */
  lagSeconds: number | undefined;
  /** Lag-tolerant reads served so far, by where they ran. */
  reads: { replica: number; primary: number };
}

export interface ReplicaOptions {
  url: string;
  maxLagSeconds: number;
  poolSize?: number;
  /** How often the monitor compares the replica with the primary. */
  checkIntervalMs?: number;
  /** A replica slower than this to answer the monitor counts as down. */
  checkTimeoutMs?: number;
}

interface PrimarySample {
  at: number;
  lsn: bigint;
}

/** A WAL position as PostgreSQL prints it ("16/B374D848") as a number. */
export function parseLsn(text: string): bigint {
  const [high, low] = text.split('/');
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('replica check timed out')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Wraps a PostgreSQL Database so that its lag-tolerant reads use the replica while it is fresh enough. */
export function withReadReplica(primary: Database, options: ReplicaOptions): Database {
  const checkTimeoutMs = options.checkTimeoutMs ?? 2_000;
  const maxLagMs = options.maxLagSeconds * 1000;
  // A replica that is slow to connect is treated as down (the read falls back) rather than waited for.
  const pool = createPgPool({ url: options.url, poolSize: options.poolSize, connectTimeoutMs: checkTimeoutMs });
  const replicaDb: Db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool: failoverAwarePool(pool, { primaryOnly: false }) }) });

  let answered: 'never' | 'yes' | 'no' | 'not_standby' = 'never';
  /** The replica holds everything the primary had committed at this time (this process's clock). */
  let freshAsOf: number | undefined;
  let samples: PrimarySample[] = [];
  const reads = { replica: 0, primary: 0 };

  async function check(): Promise<void> {
    try {
      const primaryAt = Date.now();
      const position = await withTimeout(sql<{ lsn: string }>`select pg_current_wal_lsn()::text as lsn`.execute(primary.db), checkTimeoutMs);
      samples.push({ at: primaryAt, lsn: parseLsn(position.rows[0]!.lsn) });
    } catch {
      // The primary is not answering: nothing to compare with (its own requests fail meanwhile).
      return;
    }
    try {
      const replay = await withTimeout(
        sql<{ in_recovery: boolean; lsn: string | null }>`select pg_is_in_recovery() as in_recovery, pg_last_wal_replay_lsn()::text as lsn`.execute(replicaDb),
        checkTimeoutMs,
      );
      const row = replay.rows[0]!;
      if (!row.in_recovery || row.lsn === null) {
        answered = 'not_standby';
        return;
      }
      answered = 'yes';
      const replayed = parseLsn(row.lsn);
      const held = samples.findLastIndex((s) => s.lsn <= replayed);
      if (held >= 0) {
        freshAsOf = Math.max(freshAsOf ?? 0, samples[held]!.at);
        // Replay only moves forward: older samples will never be needed again.
        samples = samples.slice(held);
      }
    } catch {
      answered = 'no';
    }
    // Bounded even if the replica never catches up: past the allowed lag the detail no longer matters.
    if (samples.length > 1 && samples[0]!.at < Date.now() - maxLagMs - 60_000) samples = samples.slice(-Math.ceil(maxLagMs / 1000) - 60);
  }

  let checking: Promise<void> | undefined;
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

  const lagMs = () => (freshAsOf === undefined ? undefined : Math.max(0, Date.now() - freshAsOf));
  function state(): ReplicaState {
    if (answered === 'not_standby') return 'not_standby';
    if (answered !== 'yes') return 'down';
    const lag = lagMs();
    return lag !== undefined && lag <= maxLagMs ? 'ok' : 'lagging';
  }

  async function readMayLag<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    if (state() === 'ok') {
      try {
        const result = await fn(replicaDb);
        reads.replica++;
        return result;
      } catch (error) {
        if (!isReplicaFailure(error)) throw error;
        // Stop sending reads there until the monitor sees it answer again.
        answered = 'no';
      }
    }
    reads.primary++;
    return primary.readMayLag(fn);
  }

  return {
    ...primary,
    readMayLag,
    replica: {
      status: () => {
        const lag = lagMs();
        return { state: state(), lagSeconds: lag === undefined ? undefined : lag / 1000, reads: { ...reads } };
      },
    },
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
