// Scale-out durable store: the same behaviour on PostgreSQL, in process and across worker processes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { adminSession, createTestApp, register, sessionCookie, startTaskConsumer, uniquePhone, type TestApp } from './helpers/app.js';
import { loginThrough, registerThrough, request, runCli, startServer, type ServerProcess } from './helpers/cluster.js';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js';
import { TEST_REDIS_URL, uniquePrefix } from './helpers/redis.js';
import { SessionService } from '../src/sessions/service.js';
import { unmet } from './helpers/requirements.js';

const PASSWORD = 'a good long passphrase';

describe('PostgreSQL, in process', { skip: await unmet('postgres') }, () => {
  let database: TestDatabase;
  let t: TestApp;
  before(async () => {
    database = await createTestDatabase('inproc');
    t = await createTestApp({ DATABASE_URL: database.url });
  });
  after(async () => {
    await t?.close();
    await database?.drop();
  });

  it('20 concurrent registrations of one phone on the connection pool: one 201, nineteen 409', async () => {
    const phone = uniquePhone();
    const results = await Promise.all(Array.from({ length: 20 }, () => register(t, { phone })));
    const statuses = results.map((r) => r.statusCode);
    assert.equal(statuses.filter((s) => s === 201).length, 1, JSON.stringify(statuses));
    assert.equal(statuses.filter((s) => s === 409).length, 19);
  });

  it("a registration takes its invitation code's row lock last: a workshop's registrations queue on that one row only for a COMMIT", async () => {
    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM invitation_codes WHERE code = $1 FOR UPDATE', [t.invitationCode]);
      const pending = register(t);
      let waiter: number | undefined;
      for (let i = 0; i < 500 && waiter === undefined; i++) {
        const { rows } = await holder.query<{ pid: number }>(
          'SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND a.datname = current_database() AND l.pid <> pg_backend_pid()',
        );
        waiter = rows[0]?.pid;
        if (waiter === undefined) await sleep(10);
      }
      assert.ok(waiter !== undefined, 'the registration waits for the row');
      // By the time it waits for the row, its account and session are written: only the COMMIT is left.
      const { rows } = await holder.query<{ relname: string }>(
        "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE l.pid = $1 AND l.granted AND l.mode = 'RowExclusiveLock' AND c.relkind = 'r'",
        [waiter],
      );
      assert.deepEqual(new Set(rows.map((r) => r.relname)), new Set(['users', 'sessions', 'audit_events', 'invitation_codes']));
      await holder.query('COMMIT');
      assert.equal((await pending).statusCode, 201);
    } finally {
      await holder.end();
    }
  });

  it("an organization's SMS setting holds in the registration's write; a roster export lists the members", async () => {
    const headers = { cookie: (await adminSession(t)).cookie };
    const orgId = (await t.database.db.selectFrom('organizations').select('id').orderBy('id').executeTakeFirstOrThrow()).id;
    const patch = (register_requires_sms: boolean) => t.app.inject({ method: 'PATCH', url: `/api/admin/organizations/${orgId}`, headers, payload: { register_requires_sms } });
    assert.equal((await patch(true)).statusCode, 200);
    assert.equal((await register(t)).json().error.code, 'SMS_CODE_REQUIRED');
    assert.equal((await patch(false)).statusCode, 200);
    const phone = uniquePhone();
    assert.equal((await register(t, { phone, name: '周老师' })).statusCode, 201);

    const consumer = startTaskConsumer(t);
    try {
      const id = (await t.app.inject({ method: 'POST', url: `/api/admin/organizations/${orgId}/exports`, headers })).json().export.id;
      let state = '';
      for (let i = 0; i < 500 && state !== 'succeeded'; i++) {
        state = (await t.app.inject({ method: 'GET', url: `/api/admin/exports/${id}`, headers })).json().export.task.state;
        if (state !== 'succeeded') await sleep(20);
      }
      const csv = (await t.app.inject({ method: 'GET', url: `/api/admin/exports/${id}/file`, headers })).body;
      assert.match(csv, new RegExp(`\r\n周老师,'\\+86${phone},user,active,[^,]+,[A-Z0-9]+,yes\r\n`));
    } finally {
      await consumer.stop(1_000);
    }
  });

  it('an account deleted by its owner takes its sessions along; a session for a deleted account is refused, not a 500', async () => {
    const phone = uniquePhone();
    const registered = await register(t, { phone, password: PASSWORD });
    const id = registered.json().user.id as number;
    const cookie = sessionCookie(registered);
    const deleted = await t.app.inject({ method: 'DELETE', url: '/api/auth/account', headers: { cookie }, payload: { current_password: PASSWORD } });
    assert.equal(deleted.statusCode, 204, deleted.body);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } })).statusCode, 401);
    const sessions = new SessionService(t.database, { ttlSeconds: 60, maxAgeSeconds: 600 });
    await assert.rejects(sessions.create(id, { ip: '127.0.0.1', userAgent: null }, { password: Date.now() }), (error: { code?: string }) => error.code === 'INVALID_CREDENTIALS');
    assert.equal((await register(t, { phone })).statusCode, 201, 'the phone number can register again');
  });
});

describe('PostgreSQL + Redis, four workers', { skip: await unmet('postgres', 'redis') }, () => {
  let database: TestDatabase;
  let server: ServerProcess;
  let env: Record<string, string>;
  before(async () => {
    database = await createTestDatabase('cluster');
    env = { DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: uniquePrefix('pg') };
    server = await startServer({ workers: 4, env });
  });
  after(async () => {
    await server?.stop();
    await database?.drop();
  });

  it('500 simultaneous registrations with one invitation code: every one 201', async () => {
    const captchas = await Promise.all(Array.from({ length: 500 }, () => request(server.port, 'GET', '/api/auth/captcha/generate?purpose=register')));
    const results = await Promise.all(
      captchas.map((c, i) =>
        request(server.port, 'POST', '/api/auth/register', {
          body: { phone: `1350${String(i).padStart(7, '0')}`, password: PASSWORD, name: `T${i}`, invitation_code: server.invitationCode, captcha_id: c.body.captcha_id, captcha: 'TEST' },
        }),
      ),
    );
    const bad = results.filter((r) => r.status !== 201);
    assert.equal(bad.length, 0, JSON.stringify(bad.slice(0, 3).map((r) => r.body)));
    const orgs = JSON.parse((await runCli(['org', 'list', '--json'], { DATABASE_URL: database.url, DATA_DIR: server.dataDir })).stdout);
    assert.equal(orgs[0].user_count, 500);
  });

  it('one captcha, 50 concurrent verifications: exactly one succeeds; a quota of 30 admits exactly 30 of 45', async () => {
    const phone = '13510000000';
    assert.equal((await registerThrough(server.port, server.invitationCode, phone)).status, 201);
    const c = await request(server.port, 'GET', '/api/auth/captcha/generate');
    const results = await Promise.all(
      Array.from({ length: 50 }, () => request(server.port, 'POST', '/api/auth/login', { body: { phone, password: PASSWORD, captcha_id: c.body.captcha_id, captcha: 'TEST' } })),
    );
    assert.equal(results.filter((r) => r.status === 200).length, 1);

    const org = JSON.parse((await runCli(['org', 'create', '--name', 'Quota', '--max-uses', '30', '--json'], { DATABASE_URL: database.url, DATA_DIR: server.dataDir })).stdout);
    const regs = await Promise.all(Array.from({ length: 45 }, (_, i) => registerThrough(server.port, org.invitation_code, `1352${String(i).padStart(7, '0')}`)));
    assert.equal(regs.filter((r) => r.status === 201).length, 30);
    assert.equal(regs.filter((r) => r.body?.error?.code === 'INVITATION_EXHAUSTED').length, 15);
    assert.equal((await loginThrough(server.port, phone, PASSWORD)).status, 200);
  });

  it('scale-out needs one SECRET_KEY: none refuses to start, another key refuses to start, the same key agrees on captchas', { timeout: 60_000 }, async () => {
    const none = await runCli(['serve', '--workers', '1', '--port', '0'], { ...env, SECRET_KEY: '' });
    assert.equal(none.code, 2, none.stderr);
    assert.match(none.stderr, /SECRET_KEY is required when DATABASE_URL is a postgres:\/\/ URL or REDIS_URL is set/);
    const other = await runCli(['serve', '--workers', '1', '--port', '0'], { ...env, SECRET_KEY: 'another key, also 32 characters or more' });
    assert.equal(other.code, 2, other.stderr);
    assert.match(other.stderr, /SECRET_KEY is not the key this database was set up with/);
    assert.ok(!other.stderr.includes('another key'), 'the key itself is not printed');

    // A second server started the documented way (the same SECRET_KEY): a captcha made on one is taken by the other.
    const second = await startServer({ workers: 1, env });
    try {
      for (let i = 0; i < 5; i++) {
        const [made, taken] = i % 2 ? [server, second] : [second, server];
        const captcha = await request(made.port, 'GET', '/api/auth/captcha/generate?purpose=register');
        const res = await request(taken.port, 'POST', '/api/auth/register', {
          body: { phone: `1353${String(i).padStart(7, '0')}`, password: PASSWORD, name: `S${i}`, invitation_code: server.invitationCode, captcha_id: captcha.body.captcha_id, captcha: 'TEST' },
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
      }
    } finally {
      await second.stop();
    }
  });
});
