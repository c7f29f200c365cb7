// One contract for the task queue, run against every backend: the durable-store table (SQLite and
// PostgreSQL) and BullMQ on Redis. Handlers here are the test's own; the queue does not know them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { openSqlite } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { openPostgres } from '../../src/db/postgres.js';
import { createBullmqQueue } from '../../src/tasks/bullmq-queue.js';
import { createSqlQueue } from '../../src/tasks/sql-queue.js';
import { PermanentTaskError, type Processor, type TaskConsumer, type TaskQueue, type TaskRecord } from '../../src/tasks/types.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { unmet, type Need } from '../helpers/requirements.js';

const LEASE_MS = 1_500;
const fastBackoff = { concurrency: 4, backoffMs: (attempts: number) => 50 * 2 ** (attempts - 1) };

interface Backend {
  name: string;
  needs?: Need[];
  open(): Promise<{ queue: TaskQueue; close(): Promise<void> }>;
}

const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-tasks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const backends: Backend[] = [
  {
    name: 'sqlite table',
    async open() {
      const database = openSqlite({ file: path.join(dir, `tasks-${Date.now()}-${Math.random()}.sqlite`) });
      await migrateToLatest(database.db);
      return { queue: createSqlQueue(database, { leaseMs: LEASE_MS, pollMs: 20 }), close: () => database.close() };
    },
  },
  {
    name: 'postgres table',
    needs: ['postgres'],
    async open() {
      const testDb = await createTestDatabase('tasks');
      const database = openPostgres({ url: testDb.url, poolSize: 6 });
      await migrateToLatest(database.db);
      return {
        queue: createSqlQueue(database, { leaseMs: LEASE_MS, pollMs: 20 }),
        async close() {
          await database.close();
          await testDb.drop();
        },
      };
    },
  },
  {
    name: 'bullmq',
    needs: ['redis'],
    async open() {
      const queue = createBullmqQueue({ redis: { url: TEST_REDIS_URL }, prefix: uniquePrefix('tasks').slice(0, -1), leaseMs: LEASE_MS });
      return { queue, close: () => queue.close() };
    },
  },
];

async function waitFor(queue: TaskQueue, id: string, done: (t: TaskRecord) => boolean, timeoutMs = 10_000): Promise<TaskRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const task = await queue.get(id);
    if (task && done(task)) return task;
    if (Date.now() > deadline) throw new Error(`task ${id} did not get there: ${JSON.stringify(task)}`);
    await sleep(20);
  }
}

const base = { priority: 5, maxAttempts: 3 };

for (const backend of backends) {
  describe(`task queue contract: ${backend.name}`, { skip: await unmet(...(backend.needs ?? [])) }, () => {
    let consumers: TaskConsumer[] = [];
    const withQueue = (fn: (queue: TaskQueue) => Promise<void>) => async () => {
      const { queue, close } = await backend.open();
      consumers = [];
      try {
        await fn(queue);
      } finally {
        await Promise.all(consumers.map((c) => c.stop(2_000)));
        await close();
      }
    };
    const start = (queue: TaskQueue, processor: Processor, concurrency = 4) => {
      const consumer = queue.consume(processor, { ...fastBackoff, concurrency });
      consumers.push(consumer);
      return consumer;
    };

    it('runs a submitted task once and records its result', withQueue(async (queue) => {
      const { task, created } = await queue.submit({ ...base, type: 'double', payload: { n: 21 }, submittedBy: 'apikey:a' });
      assert.equal(created, true);
      assert.equal(task.state, 'queued');
      assert.deepEqual((await queue.get(task.id))?.payload, { n: 21 });
      let runs = 0;
      start(queue, async (t) => {
        runs++;
        return { doubled: (t.payload as { n: number }).n * 2 };
      });
      const done = await waitFor(queue, task.id, (t) => t.state === 'succeeded');
      assert.deepEqual(done.result, { doubled: 42 });
      assert.equal(done.attempts, 1);
      assert.equal(done.submitted_by, 'apikey:a');
      assert.ok(done.finished_at! >= done.started_at!);
      assert.equal(runs, 1);
      assert.equal(await queue.get('tsk_nonexistent'), null);
    }));

    it('keeps the id of the request that submitted a task, for the worker to log under', withQueue(async (queue) => {
      const { task } = await queue.submit({ ...base, type: 'x', payload: null, requestId: 'req-7f3a' });
      const plain = await queue.submit({ ...base, type: 'x', payload: null });
      assert.equal(task.request_id, 'req-7f3a');
      assert.equal((await queue.get(task.id))?.request_id, 'req-7f3a');
      assert.equal(plain.task.request_id, null);
      const seen = new Map<string, string | null>();
      start(queue, async (t) => void seen.set(t.id, t.request_id));
      await waitFor(queue, plain.task.id, (t) => t.state === 'succeeded');
      await waitFor(queue, task.id, (t) => t.state === 'succeeded');
      assert.deepEqual(Object.fromEntries(seen), { [task.id]: 'req-7f3a', [plain.task.id]: null });
    }));

    it('an idempotency key gives the first task back, per submitter', withQueue(async (queue) => {
      const first = await queue.submit({ ...base, type: 'x', payload: 1, idempotencyKey: 'k1', submittedBy: 'apikey:a' });
      const again = await queue.submit({ ...base, type: 'x', payload: 2, idempotencyKey: 'k1', submittedBy: 'apikey:a' });
      const other = await queue.submit({ ...base, type: 'x', payload: 3, idempotencyKey: 'k1', submittedBy: 'apikey:b' });
      assert.equal(again.created, false);
      assert.equal(again.task.id, first.task.id);
      assert.deepEqual(again.task.payload, 1);
      assert.equal(other.created, true);
      assert.notEqual(other.task.id, first.task.id);
      // Concurrent duplicates: one task.
      const burst = await Promise.all(Array.from({ length: 10 }, (_, i) => queue.submit({ ...base, type: 'x', payload: i, idempotencyKey: 'k2', submittedBy: 'apikey:a' })));
      assert.equal(new Set(burst.map((r) => r.task.id)).size, 1);
      assert.equal(burst.filter((r) => r.created).length, 1);
    }));

    it('retries a failing task with backoff, then succeeds', withQueue(async (queue) => {
      const { task } = await queue.submit({ ...base, type: 'flaky', payload: null });
      const attemptsSeen: number[] = [];
      start(queue, async (_t, context) => {
        attemptsSeen.push(context.attempt);
        if (context.attempt < 3) throw new Error(`flaky failure ${context.attempt}`);
        return 'ok';
      });
      const failedOnce = await waitFor(queue, task.id, (t) => t.state === 'failed' || t.state === 'succeeded');
      if (failedOnce.state === 'failed') assert.match(failedOnce.last_error ?? '', /flaky failure/);
      const done = await waitFor(queue, task.id, (t) => t.state === 'succeeded');
      assert.equal(done.attempts, 3);
      assert.deepEqual(attemptsSeen, [1, 2, 3]);
      assert.equal(done.result, 'ok');
    }));

    it('dead-letters a task after its last attempt, and an admin retry runs it again', withQueue(async (queue) => {
      const { task } = await queue.submit({ ...base, maxAttempts: 2, type: 'broken', payload: null });
      let fixed = false;
      let runs = 0;
      start(queue, async () => {
        runs++;
        if (!fixed) throw new Error('provider down');
        return 'delivered';
      });
      const dead = await waitFor(queue, task.id, (t) => t.state === 'dead');
      assert.equal(dead.attempts, 2);
      assert.match(dead.last_error ?? '', /provider down/);
      assert.equal(runs, 2);
      assert.equal((await queue.counts()).dead, 1);
      assert.deepEqual((await queue.list({ state: 'dead', limit: 10 })).map((t) => t.id), [task.id]);
      fixed = true;
      const retried = await queue.retry(task.id);
      assert.ok(retried);
      const done = await waitFor(queue, task.id, (t) => t.state === 'succeeded');
      assert.equal(done.result, 'delivered');
      assert.equal(await queue.retry(task.id), null, 'only dead tasks can be retried');
    }));

    it('a permanent error goes straight to the dead letters', withQueue(async (queue) => {
      const { task } = await queue.submit({ ...base, maxAttempts: 5, type: 'bad', payload: null });
      start(queue, async () => {
        throw new PermanentTaskError('payload can never work');
      });
      const dead = await waitFor(queue, task.id, (t) => t.state === 'dead');
      assert.equal(dead.attempts, 1);
      assert.match(dead.last_error ?? '', /payload can never work/);
    }));

    it('runs higher priorities first', withQueue(async (queue) => {
      const low = await queue.submit({ ...base, priority: 1, type: 'p', payload: 'low' });
      const mid = await queue.submit({ ...base, priority: 5, type: 'p', payload: 'mid' });
      const high = await queue.submit({ ...base, priority: 9, type: 'p', payload: 'high' });
      const order: unknown[] = [];
      start(queue, async (t) => void order.push(t.payload), 1);
      await waitFor(queue, low.task.id, (t) => t.state === 'succeeded');
      await waitFor(queue, mid.task.id, (t) => t.state === 'succeeded');
      await waitFor(queue, high.task.id, (t) => t.state === 'succeeded');
      assert.deepEqual(order, ['high', 'mid', 'low']);
    }));

    it('shows progress while a task runs, and counts tasks by state', withQueue(async (queue) => {
      const { task } = await queue.submit({ ...base, type: 'slow', payload: null });
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      start(queue, async (_t, context) => {
        await context.progress({ done: 5, total: 10 });
        await gate;
        return null;
      });
      const running = await waitFor(queue, task.id, (t) => t.state === 'running' && t.progress !== null);
      assert.deepEqual(running.progress, { done: 5, total: 10 });
      assert.equal((await queue.counts()).running, 1);
      release();
      await waitFor(queue, task.id, (t) => t.state === 'succeeded');
      const counts = await queue.counts();
      assert.equal(counts.succeeded, 1);
      assert.equal(counts.running, 0);
    }));

    it('two consumers on one queue run each of 60 tasks exactly once', withQueue(async (queue) => {
      const ids = await Promise.all(Array.from({ length: 60 }, (_, i) => queue.submit({ ...base, type: 'once', payload: i }).then((r) => r.task.id)));
      const runs = new Map<string, number>();
      const processor: Processor = async (t) => {
        runs.set(t.id, (runs.get(t.id) ?? 0) + 1);
        await sleep(2);
        return null;
      };
      start(queue, processor);
      start(queue, processor);
      for (const id of ids) await waitFor(queue, id, (t) => t.state === 'succeeded');
      assert.equal(runs.size, 60);
      assert.ok([...runs.values()].every((n) => n === 1), 'no task ran twice');
    }));

    it('a task whose consumer vanished without a word is run again after its lease', withQueue(async (queue) => {
      const { task } = await queue.submit({ ...base, type: 'long', payload: null });
      // The first consumer takes the task and then hangs for ever, renewing nothing once stopped.
      let firstStarted!: () => void;
      const started = new Promise<void>((resolve) => (firstStarted = resolve));
      const stuck = queue.consume(async () => {
        firstStarted();
        await new Promise(() => undefined);
      }, { ...fastBackoff, concurrency: 1 });
      await started;
      // Abandon it: stop with no wait; its task is neither finished nor released by a clean hand-back.
      void stuck.stop(0);
      start(queue, async (_t, context) => ({ attempt: context.attempt }), 1);
      const done = await waitFor(queue, task.id, (t) => t.state === 'succeeded', 20_000);
      assert.ok(done.attempts >= 1);
    }));
  });
}

describe('table queue: the store failing under a running consumer', () => {
  it('reports the trouble and keeps going: the task runs once the store answers again', async () => {
    const database = openSqlite({ file: path.join(dir, `flaky-${Date.now()}.sqlite`) });
    await migrateToLatest(database.db);
    let failuresLeft = 3;
    // The same database, but its next three write transactions fail as a lost disk or server would.
    const flaky = { ...database, write: ((fn: Parameters<typeof database.write>[0]) => (failuresLeft-- > 0 ? Promise.reject(new Error('disk I/O error')) : database.write(fn))) as typeof database.write };
    const queue = createSqlQueue(flaky, { leaseMs: LEASE_MS, pollMs: 10 });
    const { task } = await createSqlQueue(database, { leaseMs: LEASE_MS, pollMs: 10 }).submit({ ...base, type: 'x', payload: null });
    const troubles: string[] = [];
    const consumer = queue.consume(async () => 'done', { ...fastBackoff, onError: (error, what) => troubles.push(`${what}: ${(error as Error).message}`) });
    try {
      const done = await waitFor(queue, task.id, (t) => t.state === 'succeeded');
      assert.equal(done.result, 'done');
      assert.ok(troubles.length >= 1 && troubles.every((t) => /disk I\/O error/.test(t)), JSON.stringify(troubles));
    } finally {
      await consumer.stop(1_000);
      await database.close();
    }
  });
});

describe('BullMQ queue: Redis unreachable', () => {
  it('answers STORE_UNAVAILABLE (a 503 for the API) within seconds, not a 500 and not a hang', async () => {
    const queue = createBullmqQueue({ redis: { url: 'redis://127.0.0.1:1/0' }, prefix: 'unreachable', leaseMs: LEASE_MS });
    const started = Date.now();
    try {
      await assert.rejects(queue.submit({ ...base, type: 'x', payload: null }), (error: Error & { code?: string }) => error.code === 'STORE_UNAVAILABLE');
      await assert.rejects(queue.get('tsk_x'), (error: Error & { code?: string }) => error.code === 'STORE_UNAVAILABLE');
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    } finally {
      await queue.close().catch(() => undefined);
    }
  });
});
