// The task API, API keys and the audit log, in process: who may submit and read what, the answers'
// shapes and codes, idempotency over HTTP, admin views and retries, and what the audit log records.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createTaskRegistry } from '../../src/task-handlers.js';
import { TaskService } from '../../src/tasks/service.js';
import { createSqlQueue } from '../../src/tasks/sql-queue.js';
import { PRIORITY_SUBMITTED_MAX, type TaskConsumer } from '../../src/tasks/types.js';
import { adminSession, createApiKey, createTestApp, login, newCaptcha, register, startTaskConsumer, TEST_CAPTCHA, TEST_SECRET, uniquePhone, type TestApp } from '../helpers/app.js';

describe('task API, API keys and audit log', () => {
  let t: TestApp;
  let admin: { cookie: string; userId: number; phone: string };
  let consumer: TaskConsumer;
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  before(async () => {
    t = await createTestApp({ RATE_LIMIT_API_KEY: '40/60' });
    admin = await adminSession(t);
    // A worker on the same database, as `gatehouse worker` would run.
    consumer = startTaskConsumer(t);
  });
  after(async () => {
    await consumer.stop(1_000);
    await t.close();
  });

  async function waitForState(key: string, id: string, state: string) {
    for (let i = 0; i < 250; i++) {
      const res = await t.app.inject({ method: 'GET', url: `/api/tasks/${id}`, headers: bearer(key) });
      if (res.json().task?.state === state) return res.json().task;
      await sleep(20);
    }
    throw new Error(`task ${id} never reached ${state}`);
  }

  it('an admin creates an API key that is shown once and listed without its secret', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/admin/api-keys', headers: { cookie: admin.cookie }, payload: { name: 'roster sync', scopes: ['tasks:write', 'tasks:read'] } });
    assert.equal(res.statusCode, 201);
    const { key, api_key } = res.json();
    assert.match(key, /^gth_[a-z2-9]{8}_[A-Za-z0-9_-]{43}$/);
    assert.equal(key.slice(4, 12), api_key.prefix);
    assert.deepEqual(api_key.scopes, ['tasks:write', 'tasks:read']);
    const list = await t.app.inject({ method: 'GET', url: '/api/admin/api-keys', headers: { cookie: admin.cookie } });
    assert.equal(list.statusCode, 200);
    assert.ok(list.json().api_keys.some((k: { prefix: string }) => k.prefix === api_key.prefix));
    assert.ok(!list.body.includes(key.slice(13)), 'the secret part never appears again');
    const stored = await t.database.db.selectFrom('api_keys').select('key_hash').where('prefix', '=', api_key.prefix).executeTakeFirstOrThrow();
    assert.notEqual(stored.key_hash, key);
    assert.match(stored.key_hash, /^[0-9a-f]{64}$/);
  });

  it('refuses unknown scopes, non-admins and anonymous callers on the admin API', async () => {
    const bad = await t.app.inject({ method: 'POST', url: '/api/admin/api-keys', headers: { cookie: admin.cookie }, payload: { name: 'x', scopes: ['everything'] } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'VALIDATION_FAILED');
    const user = await register(t);
    const cookie = `gatehouse_session=${user.cookies.find((c) => c.name === 'gatehouse_session')!.value}`;
    const forbidden = await t.app.inject({ method: 'GET', url: '/api/admin/tasks', headers: { cookie } });
    assert.equal(forbidden.statusCode, 403);
    assert.equal(forbidden.json().error.code, 'FORBIDDEN');
    const anonymous = await t.app.inject({ method: 'GET', url: '/api/admin/audit' });
    assert.equal(anonymous.statusCode, 401);
  });

  it('POST /api/tasks needs a live key with tasks:write', async () => {
    const readOnly = await createApiKey(t, admin.cookie, ['tasks:read']);
    const payload = { type: 'system.echo', payload: { message: 'hi' } };
    const cases: Array<[Record<string, string>, number, string]> = [
      [{}, 401, 'INVALID_API_KEY'],
      [{ authorization: 'Bearer nonsense' }, 401, 'INVALID_API_KEY'],
      [bearer(`gth_${readOnly.prefix}_${'A'.repeat(43)}`), 401, 'INVALID_API_KEY'],
      [{ authorization: 'Basic Zm9vOmJhcg==' }, 401, 'INVALID_API_KEY'],
      [bearer(readOnly.key), 403, 'FORBIDDEN'],
    ];
    for (const [headers, status, code] of cases) {
      const res = await t.app.inject({ method: 'POST', url: '/api/tasks', headers, payload });
      assert.equal(res.statusCode, status, JSON.stringify(headers));
      assert.equal(res.json().error.code, code);
    }
  });

  it('runs a submitted task and shows its status to the key that submitted it only', async () => {
    const writer = await createApiKey(t, admin.cookie, ['tasks:write', 'tasks:read']);
    const other = await createApiKey(t, admin.cookie, ['tasks:read']);
    const res = await t.app.inject({ method: 'POST', url: '/api/tasks', headers: bearer(writer.key), payload: { type: 'system.echo', payload: { message: '你好' }, priority: 7 } });
    assert.equal(res.statusCode, 201);
    const { task } = res.json();
    assert.match(task.id, /^tsk_/);
    assert.equal(task.state, 'queued');
    assert.equal(task.priority, 7);
    assert.equal(task.submitted_by, `apikey:${writer.prefix}`);
    const done = await waitForState(writer.key, task.id, 'succeeded');
    assert.deepEqual(done.result, { message: '你好', attempt: 1 });
    assert.equal(done.attempts, 1);
    const keys = (await t.app.inject({ method: 'GET', url: '/api/admin/api-keys', headers: { cookie: admin.cookie } })).json().api_keys;
    assert.ok(keys.find((k: { prefix: string }) => k.prefix === writer.prefix).last_used_at, 'last use is recorded');
    assert.equal(keys.find((k: { prefix: string }) => k.prefix === other.prefix).last_used_at, null);
    const foreign = await t.app.inject({ method: 'GET', url: `/api/tasks/${task.id}`, headers: bearer(other.key) });
    assert.equal(foreign.statusCode, 404);
    assert.equal(foreign.json().error.code, 'TASK_NOT_FOUND');
  });

  it('checks type and payload at submission', async () => {
    const writer = await createApiKey(t, admin.cookie, ['tasks:write']);
    const unknown = await t.app.inject({ method: 'POST', url: '/api/tasks', headers: bearer(writer.key), payload: { type: 'no.such.type' } });
    assert.equal(unknown.statusCode, 400);
    assert.equal(unknown.json().error.code, 'UNKNOWN_TASK_TYPE');
    assert.ok(unknown.json().error.types.includes('system.echo'));
    const bad = await t.app.inject({ method: 'POST', url: '/api/tasks', headers: bearer(writer.key), payload: { type: 'system.echo', payload: { delay_ms: -5 } } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'INVALID_TASK_PAYLOAD');
    assert.match(bad.json().error.message, /delay_ms/);
    const priority = await t.app.inject({ method: 'POST', url: '/api/tasks', headers: bearer(writer.key), payload: { type: 'system.echo', priority: 99 } });
    assert.equal(priority.statusCode, 400);
    assert.equal(priority.json().error.code, 'VALIDATION_FAILED');
  });

  it("an API client's priority stays below the system's own: 8 and 9 are refused with 400, SMS delivery runs above any of them", async () => {
    const writer = await createApiKey(t, admin.cookie, ['tasks:write']);
    for (const priority of [PRIORITY_SUBMITTED_MAX + 1, 9]) {
      const res = await t.app.inject({ method: 'POST', url: '/api/tasks', headers: bearer(writer.key), payload: { type: 'system.echo', priority } });
      assert.equal(res.statusCode, 400, String(priority));
      assert.equal(res.json().error.code, 'VALIDATION_FAILED');
      assert.equal(res.json().error.field, 'body.priority');
    }
    const top = await t.app.inject({ method: 'POST', url: '/api/tasks', headers: bearer(writer.key), payload: { type: 'system.echo', priority: PRIORITY_SUBMITTED_MAX } });
    assert.equal(top.statusCode, 201);
    // The service refuses it too, whatever route a submission comes by.
    const service = new TaskService(createSqlQueue(t.database, { leaseMs: 5_000, pollMs: 10 }), createTaskRegistry({ config: t.config, database: t.database, kv: t.kv, secret: TEST_SECRET, log: { info: () => undefined } }));
    await assert.rejects(service.submit({ type: 'system.echo', payload: null, priority: 8 }, 'apikey:x', true), { code: 'VALIDATION_FAILED' });
    // SMS delivery, submitted by the system itself, outranks anything an API client may ask for.
    const phone = uniquePhone();
    await register(t, { phone });
    const captcha_id = await newCaptcha(t.app, 'sms');
    assert.equal((await t.app.inject({ method: 'POST', url: '/api/auth/sms/send', payload: { phone, purpose: 'login', captcha_id, captcha: TEST_CAPTCHA } })).statusCode, 202);
    const delivery = await t.database.db.selectFrom('tasks').select('priority').where('type', '=', 'sms.deliver').orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    assert.ok(delivery.priority > PRIORITY_SUBMITTED_MAX, `sms.deliver runs at ${delivery.priority}`);
  });

  it('an idempotency key (body or header) gives back the first task with 200', async () => {
    const writer = await createApiKey(t, admin.cookie, ['tasks:write']);
    const first = await t.app.inject({ method: 'POST', url: '/api/tasks', headers: bearer(writer.key), payload: { type: 'system.echo', payload: { message: 'once' }, idempotency_key: 'import-2026-11-23' } });
    const again = await t.app.inject({ method: 'POST', url: '/api/tasks', headers: { ...bearer(writer.key), 'idempotency-key': 'import-2026-11-23' }, payload: { type: 'system.echo', payload: { message: 'twice' } } });
    assert.equal(first.statusCode, 201);
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().task.id, first.json().task.id);
    assert.deepEqual(again.json().task.payload, { message: 'once', delay_ms: 0 });
  });

  it('admins list tasks, see counts by state, and retry dead letters only', async () => {
    // A task the API would refuse, put on the queue directly: it can never run, so it is dead at once.
    const queue = createSqlQueue(t.database, { leaseMs: 5_000, pollMs: 20 });
    const { task: dead } = await queue.submit({ type: 'system.echo', payload: { delay_ms: 'soon' }, priority: 5, maxAttempts: 3 });
    for (let i = 0; i < 250 && (await queue.get(dead.id))?.state !== 'dead'; i++) await sleep(20);
    const headers = { cookie: admin.cookie };
    const listed = await t.app.inject({ method: 'GET', url: '/api/admin/tasks?state=dead', headers });
    assert.equal(listed.statusCode, 200);
    const row = listed.json().tasks.find((x: { id: string }) => x.id === dead.id);
    assert.ok(row, 'the dead task is listed');
    assert.equal(row.attempts, 1);
    assert.match(row.last_error, /delay_ms/);
    const stats = await t.app.inject({ method: 'GET', url: '/api/admin/tasks/stats', headers });
    assert.equal(stats.json().backend, 'sql');
    assert.ok(stats.json().counts.dead >= 1);
    const retried = await t.app.inject({ method: 'POST', url: `/api/admin/tasks/${dead.id}/retry`, headers });
    assert.equal(retried.statusCode, 200);
    assert.equal(retried.json().task.state, 'queued');
    assert.equal(retried.json().task.attempts, 0);
    const done = await t.app.inject({ method: 'GET', url: '/api/admin/tasks?state=succeeded&limit=500', headers });
    const notDead = done.json().tasks[0];
    const refused = await t.app.inject({ method: 'POST', url: `/api/admin/tasks/${notDead.id}/retry`, headers });
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json().error.code, 'TASK_NOT_DEAD');
    const missing = await t.app.inject({ method: 'POST', url: '/api/admin/tasks/tsk_nope/retry', headers });
    assert.equal(missing.statusCode, 404);
  });

  it('a revoked key stops working at once', async () => {
    const key = await createApiKey(t, admin.cookie, ['tasks:read']);
    const before = await t.app.inject({ method: 'GET', url: '/api/tasks/tsk_x', headers: bearer(key.key) });
    assert.equal(before.statusCode, 404);
    const revoke = await t.app.inject({ method: 'DELETE', url: `/api/admin/api-keys/${key.id}`, headers: { cookie: admin.cookie } });
    assert.equal(revoke.statusCode, 200);
    assert.ok(revoke.json().api_key.revoked_at);
    const after = await t.app.inject({ method: 'GET', url: '/api/tasks/tsk_x', headers: bearer(key.key) });
    assert.equal(after.statusCode, 401);
    const twice = await t.app.inject({ method: 'DELETE', url: `/api/admin/api-keys/${key.id}`, headers: { cookie: admin.cookie } });
    assert.equal(twice.statusCode, 404);
  });

  it('rate-limits each key on its own', async () => {
    const busy = await createApiKey(t, admin.cookie, ['tasks:read']);
    const calm = await createApiKey(t, admin.cookie, ['tasks:read']);
    const statuses: number[] = [];
    for (let i = 0; i < 42; i++) statuses.push((await t.app.inject({ method: 'GET', url: '/api/tasks/tsk_x', headers: bearer(busy.key) })).statusCode);
    assert.equal(statuses.filter((s) => s === 404).length, 40);
    const limited = await t.app.inject({ method: 'GET', url: '/api/tasks/tsk_x', headers: bearer(busy.key) });
    assert.equal(limited.statusCode, 429);
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/tasks/tsk_x', headers: bearer(calm.key) })).statusCode, 404);
  });

  it('the audit log records logins, failures, lockouts and key management, filterable by admins', async () => {
    const phone = uniquePhone();
    const res = await register(t, { phone, password: 'correct horse battery' });
    const userId = res.json().user.id;
    assert.equal((await login(t, phone, 'wrong password here')).statusCode, 401);
    assert.equal((await login(t, phone, 'correct horse battery')).statusCode, 200);
    const headers = { cookie: admin.cookie };
    const logins = await t.app.inject({ method: 'GET', url: `/api/admin/audit?event=login.*&limit=1000`, headers });
    assert.equal(logins.statusCode, 200);
    const events = logins.json().events as Array<{ event: string; actor: string | null; target: string | null; ip: string; at: string }>;
    assert.ok(events.every((e) => e.event.startsWith('login.')));
    const ok = events.find((e) => e.event === 'login.ok' && e.actor === `user:${userId}`);
    assert.ok(ok, 'login.ok recorded');
    assert.equal(ok.ip, '127.0.0.1');
    const failed = events.find((e) => e.event === 'login.failed' && e.target?.endsWith(phone.slice(-4)));
    assert.ok(failed, 'login.failed recorded with the masked phone');
    assert.ok(!JSON.stringify(events).includes(phone), 'phone numbers are masked');
    const registered = await t.app.inject({ method: 'GET', url: `/api/admin/audit?event=register&actor=user:${userId}`, headers });
    assert.equal(registered.json().events.length, 1);
    const keys = await t.app.inject({ method: 'GET', url: `/api/admin/audit?event=apikey.created`, headers });
    assert.ok(keys.json().events.length >= 1);
    assert.equal(keys.json().events[0].actor, `user:${admin.userId}`);
    const future = await t.app.inject({ method: 'GET', url: `/api/admin/audit?since=${new Date(Date.now() + 60_000).toISOString()}`, headers });
    assert.deepEqual(future.json().events, []);
    // Paging: the next page starts below the last id seen.
    const page1 = (await t.app.inject({ method: 'GET', url: '/api/admin/audit?limit=2', headers })).json().events;
    const page2 = (await t.app.inject({ method: 'GET', url: `/api/admin/audit?limit=2&before=${page1[1].id}`, headers })).json().events;
    assert.ok(page2[0].id < page1[1].id);
  });
});
