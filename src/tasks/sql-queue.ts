// The embedded task queue: a table in the durable store (SQLite or PostgreSQL). A worker claims a
// task by taking a lease on it; while it runs, the worker renews the lease; a task whose worker died
// (SIGKILL, power cut) becomes claimable again once its lease has expired, so it is never lost.
// Every state change is fenced on the lease owner: a worker that lost its lease cannot overwrite
// what the next worker does.
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Database, Db } from '../db/database.js';
import { isUniqueViolation } from '../db/store-errors.js';
import type { TaskRow, TaskState } from '../db/schema.js';
import { randomToken } from '../security/tokens.js';
import { PermanentTaskError, TASK_STATES, type ConsumeOptions, type NewTask, type Processor, type TaskConsumer, type TaskFilter, type TaskQueue, type TaskRecord } from './types.js';

export interface SqlQueueOptions {
  /** How long a claimed task stays with its worker without a renewal. */
  leaseMs: number;
  /** How often an idle worker looks for work. */
  pollMs: number;
  now?: () => number;
}

export function newTaskId(): string {
  return `tsk_${randomToken(15)}`;
}

function parseJson(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

export function toRecord(row: TaskRow): TaskRecord {
  const waiting = row.state === 'queued' || row.state === 'failed';
  return {
    id: row.id,
    type: row.type,
    state: row.state,
    priority: row.priority,
    attempts: row.attempts,
    max_attempts: row.max_attempts,
    payload: parseJson(row.payload),
    result: parseJson(row.result),
    progress: parseJson(row.progress),
    last_error: row.last_error,
    submitted_by: row.submitted_by,
    request_id: row.request_id,
    created_at: row.created_at,
    updated_at: row.updated_at,
    started_at: row.started_at,
    finished_at: row.finished_at,
    next_run_at: waiting ? row.run_at : null,
  };
}

export function errorText(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.slice(0, 2000);
}

export function createSqlQueue(database: Database, options: SqlQueueOptions): TaskQueue {
  const { db } = database;
  const now = options.now ?? Date.now;

  const runnable = (qb: Db, at: number) =>
    qb
      .selectFrom('tasks')
      .select('id')
      .where((eb) =>
        eb.or([
          eb.and([eb('state', 'in', ['queued', 'failed']), eb('run_at', '<=', at)]),
          eb.and([eb('state', '=', 'running'), eb('lease_expires_at', '<=', at)]),
        ]),
      )
      .orderBy('priority', 'desc')
      .orderBy('run_at', 'asc')
      .limit(1);

  /** Takes the next runnable task and leases it to `owner`; undefined when there is none. */
  async function claim(owner: string): Promise<TaskRow | undefined> {
    // A read first, outside any write transaction: an idle worker never takes SQLite's write lock.
    if (!(await runnable(db, now()).executeTakeFirst())) return undefined;
    return database.write(async (trx) => {
      const at = now();
      let pick = runnable(trx, at);
      if (database.dialect === 'postgres') pick = pick.forUpdate().skipLocked();
      const next = await pick.executeTakeFirst();
      if (!next) return undefined;
      return trx
        .updateTable('tasks')
        .set((eb) => ({
          state: 'running',
          lease_owner: owner,
          lease_expires_at: at + options.leaseMs,
          attempts: eb('attempts', '+', 1),
          started_at: at,
          updated_at: at,
        }))
        .where('id', '=', next.id)
        .returningAll()
        .executeTakeFirstOrThrow();
    });
  }

  /** A state change by the lease holder; false when the lease was lost (another worker owns the task now). */
  async function settle(id: string, owner: string, changes: Partial<Omit<TaskRow, 'id'>>): Promise<boolean> {
    const result = await database.write((trx) =>
      trx
        .updateTable('tasks')
        .set({ ...changes, updated_at: now() })
        .where('id', '=', id)
        .where('lease_owner', '=', owner)
        .where('state', '=', 'running')
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) === 1;
  }

  async function finishFailed(row: TaskRow, owner: string, error: unknown, consume: ConsumeOptions): Promise<void> {
    const at = now();
    const permanent = error instanceof PermanentTaskError;
    const out = permanent || row.attempts >= row.max_attempts;
    await settle(row.id, owner, {
      state: out ? 'dead' : 'failed',
      last_error: errorText(error),
      lease_owner: null,
      lease_expires_at: null,
      run_at: out ? row.run_at : at + consume.backoffMs(row.attempts),
      finished_at: out ? at : null,
    });
  }

  function consume(processor: Processor, consumeOptions: ConsumeOptions): TaskConsumer {
    const reportError = consumeOptions.onError ?? (() => undefined);
    const stopping = new AbortController();
    const running = new Set<Promise<void>>();
    // Lease renewals of running tasks; cleared when a stop gives up waiting, so that a task whose
    // handler never returns goes back to the queue when its lease runs out, as if the process had died.
    const renewals = new Set<NodeJS.Timeout>();
    const processId = `${hostname()}:${process.pid}:${randomToken(6)}`;
    let slot = 0;
    const stopped = new Promise<void>((resolve) => stopping.signal.addEventListener('abort', () => resolve(), { once: true }));

    async function runOne(row: TaskRow, owner: string): Promise<void> {
      const lease = new AbortController();
      const onStop = () => lease.abort(new Error('worker stopping'));
      stopping.signal.addEventListener('abort', onStop, { once: true });
      const renew = setInterval(() => {
        settle(row.id, owner, { lease_expires_at: now() + options.leaseMs })
          .then((held) => held || lease.abort(new Error('lease lost')))
          .catch((error: unknown) => reportError(error, 'lease renewal'));
      }, Math.max(50, Math.floor(options.leaseMs / 3)));
      renewals.add(renew);
      try {
        const record = toRecord(row);
        const result = await processor(record, {
          taskId: row.id,
          attempt: row.attempts,
          signal: lease.signal,
          progress: async (value) => {
            await settle(row.id, owner, { progress: JSON.stringify(value ?? null) });
          },
        });
        await settle(row.id, owner, {
          state: 'succeeded',
          result: JSON.stringify(result ?? null),
          lease_owner: null,
          lease_expires_at: null,
          finished_at: now(),
        });
      } catch (error) {
        if (stopping.signal.aborted && lease.signal.aborted) {
          // Interrupted by a shutdown, not failed: hand it back at once, this attempt uncounted.
          await settle(row.id, owner, { state: 'queued', attempts: row.attempts - 1, lease_owner: null, lease_expires_at: null, run_at: now() }).catch(
            (e: unknown) => reportError(e, 'releasing a task'),
          );
          return;
        }
        await finishFailed(row, owner, error, consumeOptions).catch((e: unknown) => reportError(e, 'recording a failure'));
      } finally {
        clearInterval(renew);
        renewals.delete(renew);
        stopping.signal.removeEventListener('abort', onStop);
      }
    }

    async function dispatch(): Promise<void> {
      while (!stopping.signal.aborted) {
        if (running.size >= consumeOptions.concurrency) {
          await Promise.race([...running, stopped]);
          continue;
        }
        const owner = `${processId}:${slot++}`;
        let row: TaskRow | undefined;
        try {
          row = await claim(owner);
        } catch (error) {
          reportError(error, 'claiming a task');
        }
        if (!row) {
          await sleep(options.pollMs, undefined, { signal: stopping.signal }).catch(() => undefined);
          continue;
        }
        if (row.attempts > row.max_attempts) {
          // Its last attempt's worker died holding it: that attempt counts, and there is none left.
          await settle(row.id, owner, {
            state: 'dead',
            last_error: row.last_error ?? 'lease expired: the worker running the last attempt stopped',
            lease_owner: null,
            lease_expires_at: null,
            finished_at: now(),
          }).catch((error: unknown) => reportError(error, 'dead-lettering'));
          continue;
        }
        const run = runOne(row, owner).finally(() => running.delete(run));
        running.add(run);
      }
    }
    const dispatcher = dispatch();

    return {
      async stop(timeoutMs = 10_000) {
        stopping.abort();
        await dispatcher;
        const finished = await Promise.race([Promise.allSettled([...running]).then(() => true), sleep(timeoutMs).then(() => false)]);
        if (!finished) for (const renew of renewals) clearInterval(renew);
      },
    };
  }

  return {
    backend: 'sql',
    async submit(task: NewTask) {
      const at = now();
      const idempotencyKey = task.idempotencyKey === undefined ? null : `${task.submittedBy ?? ''}:${task.idempotencyKey}`;
      const row: TaskRow = {
        id: newTaskId(),
        type: task.type,
        payload: JSON.stringify(task.payload ?? null),
        priority: task.priority,
        state: 'queued',
        attempts: 0,
        max_attempts: task.maxAttempts,
        run_at: at,
        lease_owner: null,
        lease_expires_at: null,
        last_error: null,
        result: null,
        progress: null,
        idempotency_key: idempotencyKey,
        submitted_by: task.submittedBy ?? null,
        request_id: task.requestId ?? null,
        created_at: at,
        updated_at: at,
        started_at: null,
        finished_at: null,
      };
      try {
        await database.write((trx) => trx.insertInto('tasks').values(row).execute());
        return { task: toRecord(row), created: true };
      } catch (error) {
        if (!idempotencyKey || !isUniqueViolation(error)) throw error;
        const first = await db.selectFrom('tasks').selectAll().where('idempotency_key', '=', idempotencyKey).executeTakeFirstOrThrow();
        return { task: toRecord(first), created: false };
      }
    },
    async get(id) {
      const row = await db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toRecord(row) : null;
    },
    async list(filter: TaskFilter) {
      let query = db.selectFrom('tasks').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit);
      if (filter.state) query = query.where('state', '=', filter.state);
      if (filter.type) query = query.where('type', '=', filter.type);
      if (filter.submittedBy) query = query.where('submitted_by', '=', filter.submittedBy);
      return (await query.execute()).map(toRecord);
    },
    async counts() {
      const rows = await db.selectFrom('tasks').select(['state', sql<number>`count(*)`.as('n')]).groupBy('state').execute();
      const counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
      for (const row of rows) counts[row.state] = Number(row.n);
      return counts;
    },
    async retry(id) {
      const at = now();
      const row = await database.write((trx) =>
        trx
          .updateTable('tasks')
          .set({ state: 'queued', attempts: 0, run_at: at, updated_at: at, finished_at: null })
          .where('id', '=', id)
          .where('state', '=', 'dead')
          .returningAll()
          .executeTakeFirst(),
      );
      return row ? toRecord(row) : null;
    },
    consume,
    async close() {
      /* the database belongs to the caller */
    },
  };
}
