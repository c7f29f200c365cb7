// Secrets never reach the logs: passwords, captcha answers, session tokens, SMS codes, API keys, whole phone numbers.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { it } from 'node:test';
import { pino } from 'pino';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openSqlite } from '../../src/db/database.js';
import { createMemoryStore } from '../../src/kv/memory.js';
import { loggerOptions } from '../../src/observability/logger.js';
import { prepareDatabase } from '../../src/server/bootstrap.js';
import { startTaskConsumer } from '../helpers/app.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A stream that keeps every log line written to it. */
function captureLines() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, sink };
}

it('a full register/login/error flow at trace level logs no password, captcha, token or phone number', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-logs-'));
  const { lines, sink } = captureLines();
  const config = loadConfig({ DATA_DIR: dir, GATEHOUSE_TEST_CAPTCHA: 'ZQ7X' }, {});
  const database = openSqlite({ file: config.databaseUrl });
  const { firstOrganization } = await prepareDatabase(database, 's'.repeat(40));
  const app = await buildApp({ config, database, kv: createMemoryStore(), secret: 's'.repeat(40), logger: pino(loggerOptions('trace'), sink) });
  try {
    const password = 'Unmistakable-Secret-Passphrase';
    const phone = '13912349876';
    const captcha = async () => (await app.inject({ method: 'GET', url: '/api/auth/captcha/generate' })).json().captcha_id;
    const reg = await app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { phone, password, name: 'L', invitation_code: firstOrganization!.invitationCode, captcha_id: await captcha(), captcha: 'ZQ7X' },
    });
    assert.equal(reg.statusCode, 201);
    const token = reg.cookies[0]!.value;
    await app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: `gatehouse_session=${token}`, authorization: `Bearer ${token}` } });
    await app.inject({ method: 'POST', url: '/api/auth/login', payload: { phone, password: `${password}-wrong`, captcha_id: await captcha(), captcha: 'ZQ7X' } });
    await app.inject({ method: 'POST', url: '/api/auth/login', payload: { phone, password, captcha_id: await captcha(), captcha: 'ZQ7X' } });
    const all = lines.join('');
    assert.ok(lines.length > 5, 'the flow was logged');
    for (const secret of [password, token, 'ZQ7X', phone]) assert.ok(!all.includes(secret), `logs contain ${secret}`);
  } finally {
    await app.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

it('SMS codes, API keys and phone numbers stay out of the logs of the API and the task worker', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-logs-'));
  const { lines, sink } = captureLines();
  const logger = pino(loggerOptions('trace'), sink);
  // The administrator here has no second factor: this test is about what reaches the logs.
  const config = loadConfig({ DATA_DIR: dir, GATEHOUSE_TEST_CAPTCHA: 'ZQ7X', ADMIN_REQUIRE_TWO_FACTOR: 'false' }, {});
  const database = openSqlite({ file: config.databaseUrl });
  const { firstOrganization } = await prepareDatabase(database, 's'.repeat(40));
  const secret = 's'.repeat(40);
  const kv = createMemoryStore();
  const app = await buildApp({ config, database, kv, secret, logger });
  const consumer = startTaskConsumer({ config, database, kv }, { concurrency: 1, log: logger, secret });
  try {
    const phone = '13912345678';
    const captcha = async (purpose: string) => (await app.inject({ method: 'GET', url: `/api/auth/captcha/generate?purpose=${purpose}` })).json().captcha_id;
    const reg = await app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { phone, password: 'a long passphrase here', name: 'L', invitation_code: firstOrganization!.invitationCode, captcha_id: await captcha('register'), captcha: 'ZQ7X' },
    });
    assert.equal(reg.statusCode, 201);
    await database.db.updateTable('users').set({ role: 'admin' }).execute();
    const cookie = `gatehouse_session=${reg.cookies[0]!.value}`;
    const key = (await app.inject({ method: 'POST', url: '/api/admin/api-keys', headers: { cookie }, payload: { name: 'k', scopes: ['tasks:read'] } })).json().key as string;
    await app.inject({ method: 'GET', url: '/api/tasks/tsk_x', headers: { authorization: `Bearer ${key}` } });
    const sent = await app.inject({ method: 'POST', url: '/api/auth/sms/send', payload: { phone, purpose: 'login', captcha_id: await captcha('sms'), captcha: 'ZQ7X' } });
    assert.equal(sent.statusCode, 202);
    let code: string | undefined;
    for (let i = 0; i < 300 && !code; i++) {
      const row = await database.db.selectFrom('sms_outbox').select('message').executeTakeFirst();
      code = row ? /(\d{6})/.exec(row.message)![1] : undefined;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(code, 'the code was delivered');
    const login = await app.inject({ method: 'POST', url: '/api/auth/login/sms', payload: { phone, code } });
    assert.equal(login.statusCode, 200);
    const all = lines.join('');
    assert.match(all, /SMS \(console provider\)/, 'the delivery was logged');
    for (const leaked of [code!, key, key.slice(13), phone]) assert.ok(!all.includes(leaked), `logs contain ${leaked}`);
  } finally {
    await consumer.stop(1_000);
    await app.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

it('query strings are logged without their values: a phone looked up or searched for never appears whole', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-logs-'));
  const { lines, sink } = captureLines();
  const config = loadConfig({ DATA_DIR: dir, GATEHOUSE_TEST_CAPTCHA: 'ZQ7X' }, {});
  const database = openSqlite({ file: config.databaseUrl });
  const { firstOrganization } = await prepareDatabase(database, 's'.repeat(40));
  const app = await buildApp({ config, database, kv: createMemoryStore(), secret: 's'.repeat(40), logger: pino(loggerOptions('info'), sink) });
  try {
    const phone = '13912340001';
    const captcha = (await app.inject({ method: 'GET', url: '/api/auth/captcha/generate' })).json().captcha_id;
    const reg = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { phone, password: 'a long passphrase here', name: 'L', invitation_code: firstOrganization!.invitationCode, captcha_id: captcha, captcha: 'ZQ7X' } });
    assert.equal(reg.statusCode, 201);
    await database.db.updateTable('users').set({ role: 'admin' }).execute();
    const cookie = `gatehouse_session=${reg.cookies[0]!.value}`;
    const searched = '13912349999';
    for (const url of [`/api/admin/users?q=${searched}&limit=5`, `/api/admin/sms/outbox?phone=%2B86${searched}`, `/api/admin/users?q=${searched}&q=+86${searched}`, `/api/admin/%zz?phone=${searched}`]) {
      await app.inject({ method: 'GET', url, headers: { cookie } });
    }
    const entries = lines.map((line) => JSON.parse(line));
    const logged = entries.filter((e) => e.msg === 'request completed' && e.req.url.startsWith('/api/admin/')).map((e) => e.req.url);
    assert.deepEqual(logged, ['/api/admin/users?q=[redacted]&limit=[redacted]', '/api/admin/sms/outbox?phone=[redacted]', '/api/admin/users?q=[redacted]&q=[redacted]']);
    // The router's early refusals write a line of their own.
    assert.ok(entries.some((e) => e.msg === 'URL refused by the router' && e.url === '/api/admin/%zz?phone=[redacted]'));
    const all = lines.join('');
    for (const whole of [searched, phone]) assert.ok(!all.includes(whole), `logs contain ${whole}`);
  } finally {
    await app.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

it('one log line per request, once it is answered: method, path, client address, status, milliseconds, request id', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-logs-'));
  const config = loadConfig({ DATA_DIR: dir }, {});
  const database = openSqlite({ file: config.databaseUrl });
  await prepareDatabase(database, 's'.repeat(40));
  const atLevel = async (level: string) => {
    const { lines, sink } = captureLines();
    const app = await buildApp({ config, database, kv: createMemoryStore(), secret: 's'.repeat(40), logger: pino(loggerOptions(level), sink) });
    try {
      const res = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'req-one-line' }, remoteAddress: '10.1.2.3' });
      assert.equal(res.statusCode, 200);
      return lines.map((line) => JSON.parse(line)).filter((entry) => entry.reqId === 'req-one-line');
    } finally {
      await app.close();
    }
  };
  try {
    const [entry, ...more] = await atLevel('info');
    assert.equal(more.length, 0, 'no separate line on arrival');
    assert.equal(entry.msg, 'request completed');
    assert.equal(entry.level, 30);
    assert.deepEqual([entry.req.method, entry.req.url, entry.req.remoteAddress, entry.res.statusCode], ['GET', '/healthz', '10.1.2.3', 200]);
    assert.equal(typeof entry.responseTime, 'number');
    assert.deepEqual(await atLevel('warn'), [], 'nothing below the configured level');
  } finally {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
