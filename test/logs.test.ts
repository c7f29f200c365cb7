// Secrets never reach the logs: passwords, captcha answers, session tokens, whole phone numbers.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { it } from 'node:test';
import { pino } from 'pino';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openSqlite } from '../src/db/database.js';
import { createMemoryStore } from '../src/kv/memory.js';
import { loggerOptions } from '../src/observability/logger.js';
import { prepareDatabase } from '../src/server/bootstrap.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

it('a full register/login/error flow at trace level logs no password, captcha, token or phone number', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-logs-'));
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const config = loadConfig({ DATA_DIR: dir, GATEHOUSE_TEST_CAPTCHA: 'ZQ7X' }, {});
  const database = openSqlite({ file: config.databaseUrl });
  const { firstOrganization } = await prepareDatabase(database);
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
