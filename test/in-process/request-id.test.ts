// One request followable by one id: the X-Request-Id a request arrives with (or the server's own when it
// has none or a malformed one) is the id its task records and the id on the task worker's log lines for
// that task, whichever feature submitted it.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createMetrics } from '../../src/observability/metrics.js';
import type { Runtime } from '../../src/server/runtime.js';
import { startTaskWorker, taskWorkerLogger, type RunningTaskWorker } from '../../src/server/task-worker.js';
import { createSqlQueue } from '../../src/tasks/sql-queue.js';
import { adminSession, createApiKey, createTestApp, newCaptcha, register, TEST_CAPTCHA, TEST_SECRET, uniquePhone, type TestApp } from '../helpers/app.js';

type LogLine = Record<string, unknown>;

describe('request ids from the request to the task worker (table queue)', () => {
  let t: TestApp;
  let key: string;
  let worker: RunningTaskWorker;
  const lines: LogLine[] = [];

  before(async () => {
    t = await createTestApp();
    const admin = await adminSession(t);
    key = (await createApiKey(t, admin.cookie, ['tasks:write', 'tasks:read'])).key;
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    // A task worker as `gatehouse worker` makes it: its own logger, the same database.
    const tasks = createSqlQueue(t.database, { leaseMs: 5_000, pollMs: 10 });
    const runtime = { database: t.database, kv: t.kv, secret: TEST_SECRET, tasks, close: async () => undefined } satisfies Runtime;
    worker = startTaskWorker(t.config, runtime, { concurrency: 2, log: taskWorkerLogger('info', 3, sink), metrics: createMetrics() });
  });
  after(async () => {
    await worker.stop(1_000);
    await t.close();
  });

  async function linesFor(taskId: string, msg: string): Promise<LogLine[]> {
    for (let i = 0; i < 500; i++) {
      const found = lines.filter((l) => l.task === taskId && l.msg === msg);
      if (found.length > 0) return found;
      await sleep(10);
    }
    throw new Error(`no "${msg}" line for ${taskId}; lines: ${JSON.stringify(lines.slice(-5))}`);
  }

  const submitEcho = (headers: Record<string, string>, message: string) =>
    t.app.inject({ method: 'POST', url: '/api/tasks', headers: { authorization: `Bearer ${key}`, ...headers }, payload: { type: 'system.echo', payload: { message } } });

  it('a task submitted through the API records the request id, and the worker logs the task under it', async () => {
    const res = await submitEcho({ 'x-request-id': 'abc-123.trace:1' }, 'follow me');
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.headers['x-request-id'], 'abc-123.trace:1');
    const { task } = res.json();
    assert.equal(task.request_id, 'abc-123.trace:1');
    const [line] = await linesFor(task.id, 'task succeeded');
    assert.equal(line!.reqId, 'abc-123.trace:1');
    assert.equal(line!.role, 'tasks');
    assert.equal(line!.worker, 3);
  });

  it('a malformed or missing X-Request-Id is replaced by the server\'s own id, which the task records', async () => {
    const variants: Array<Record<string, string>> = [{ 'x-request-id': 'has spaces and "quotes"' }, { 'x-request-id': 'x'.repeat(65) }, {}];
    for (const headers of variants) {
      const res = await submitEcho(headers, 'own id');
      assert.equal(res.statusCode, 201, res.body);
      const answered = res.headers['x-request-id'] as string;
      assert.match(answered, /^[0-9a-f-]{36}$/, JSON.stringify(headers));
      const { task } = res.json();
      assert.equal(task.request_id, answered);
      assert.equal((await linesFor(task.id, 'task succeeded'))[0]!.reqId, answered);
    }
  });

  it('concurrent requests each give their own id to their own task', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `concurrent-${i}`);
    const answers = await Promise.all(ids.map((id) => submitEcho({ 'x-request-id': id }, id)));
    for (const [i, res] of answers.entries()) {
      assert.equal(res.statusCode, 201, res.body);
      const { task } = res.json();
      assert.equal(task.request_id, ids[i]);
      assert.equal((await linesFor(task.id, 'task succeeded'))[0]!.reqId, ids[i]);
    }
  });

  it('an SMS sent for a request: the delivery task\'s lines, the handler\'s own included, carry its id', async () => {
    const phone = uniquePhone();
    assert.equal((await register(t, { phone })).statusCode, 201);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/sms/send',
      headers: { 'x-request-id': 'sms-request-42' },
      payload: { phone, purpose: 'login', captcha_id: await newCaptcha(t.app, 'sms'), captcha: TEST_CAPTCHA },
    });
    assert.equal(res.statusCode, 202, res.body);
    const task = await t.database.db.selectFrom('tasks').select(['id', 'request_id']).where('type', '=', 'sms.deliver').orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    assert.equal(task.request_id, 'sms-request-42');
    await linesFor(task.id, 'task succeeded');
    // The console provider's line is the handler's own (it knows nothing of tasks or requests).
    const handlerLine = lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('SMS (console provider)') && l.reqId === 'sms-request-42');
    assert.ok(handlerLine, `the handler's line carries the request id; lines: ${JSON.stringify(lines.filter((l) => String(l.msg).startsWith('SMS')))}`);
  });

  it('a task submitted outside any request records no request id, and its lines carry none', async () => {
    const { task } = await worker.queue.submit({ type: 'system.echo', payload: { message: 'from a script', delay_ms: 0 }, priority: 5, maxAttempts: 1 });
    assert.equal(task.request_id, null);
    const [line] = await linesFor(task.id, 'task succeeded');
    assert.equal('reqId' in line!, false);
  });
});
