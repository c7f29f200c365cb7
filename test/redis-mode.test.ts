// Scale-out store: the same cross-process guarantees with Redis as the shared ephemeral store, and
// what happens while Redis is down.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { freePort, loginThrough, registerThrough, request, startServer, type ServerProcess } from './helpers/cluster.js';
import { startOwnRedis, TEST_REDIS_URL, uniquePrefix } from './helpers/redis.js';
import { unmet } from './helpers/requirements.js';

const PASSWORD = 'a good long passphrase';

describe('Redis mode, four workers', { skip: await unmet('redis') }, () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer({ workers: 4, env: { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: uniquePrefix('mode') } });
  });
  after(() => server?.stop());

  it('captchas generated on one worker verify on another; 60 flows that crossed workers all succeed', async () => {
    let crossed = 0;
    for (let i = 0; i < 150 && crossed < 60; i++) {
      const c = await request(server.port, 'GET', '/api/auth/captcha/generate?purpose=register');
      const res = await request(server.port, 'POST', '/api/auth/register', {
        body: { phone: `1340000${String(i).padStart(4, '0')}`, password: PASSWORD, name: 'R', invitation_code: server.invitationCode, captcha_id: c.body.captcha_id, captcha: 'TEST' },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      if (res.worker !== c.worker) crossed++;
    }
    assert.ok(crossed >= 60, `${crossed} crossed`);
  });

  it('one captcha, 50 concurrent verifications: exactly one succeeds', async () => {
    const phone = '13410000000';
    assert.equal((await registerThrough(server.port, server.invitationCode, phone)).status, 201);
    const c = await request(server.port, 'GET', '/api/auth/captcha/generate');
    const results = await Promise.all(
      Array.from({ length: 50 }, () => request(server.port, 'POST', '/api/auth/login', { body: { phone, password: PASSWORD, captcha_id: c.body.captcha_id, captcha: 'TEST' } })),
    );
    assert.equal(results.filter((r) => r.status === 200).length, 1);
    assert.equal(results.filter((r) => r.body?.error?.code === 'CAPTCHA_EXPIRED').length, 49);
  });

  it('lockout counts across workers: exactly 4 of 12 concurrent wrong passwords get 401', async () => {
    const phone = '13410000001';
    assert.equal((await registerThrough(server.port, server.invitationCode, phone)).status, 201);
    const results = await Promise.all(Array.from({ length: 12 }, () => loginThrough(server.port, phone, 'wrong password!')));
    assert.equal(results.filter((r) => r.status === 401).length, 4, JSON.stringify(results.map((r) => r.status)));
    assert.equal(results.filter((r) => r.status === 423).length, 8);
  });
});

describe('Redis mode: a per-address limit holds across workers', { skip: await unmet('redis') }, () => {
  it('exactly 10 of 16 captcha requests pass', async () => {
    const server = await startServer({ workers: 4, env: { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: uniquePrefix('limit'), RATE_LIMIT_CAPTCHA_PER_IP: '10/60' } });
    try {
      const results = await Promise.all(Array.from({ length: 16 }, () => request(server.port, 'GET', '/api/auth/captcha/generate')));
      assert.equal(results.filter((r) => r.status === 200).length, 10);
      assert.equal(results.filter((r) => r.status === 429).length, 6);
    } finally {
      await server.stop();
    }
  });
});

describe('Redis goes down and comes back', { skip: await unmet('redis-binaries') }, () => {
  let redis: ChildProcess | undefined;
  let redisPort: number;

  async function startRedis(): Promise<void> {
    redis = await startOwnRedis(redisPort);
  }

  async function stopRedis(): Promise<void> {
    const exited = new Promise((resolve) => redis!.once('exit', resolve));
    redis!.kill('SIGKILL');
    await exited;
  }

  before(async () => {
    redisPort = await freePort();
    await startRedis();
  });
  after(async () => {
    if (redis && redis.exitCode === null) await stopRedis();
  });

  it('503 STORE_UNAVAILABLE within a bounded time while down, fail closed, not ready; back to normal without a restart', async () => {
    const server = await startServer({ workers: 2, env: { REDIS_URL: `redis://127.0.0.1:${redisPort}` } });
    try {
      const phone = '13420000000';
      assert.equal((await registerThrough(server.port, server.invitationCode, phone)).status, 201);
      const pending = await request(server.port, 'GET', '/api/auth/captcha/generate?purpose=login');
      assert.equal((await request(server.port, 'GET', '/readyz')).status, 200);

      await stopRedis();
      for (let i = 0; i < 4; i++) {
        const started = performance.now();
        const res = await request(server.port, 'GET', '/api/auth/captcha/generate');
        assert.ok(performance.now() - started < 5_000, 'answered within the bound');
        assert.equal(res.status, 503);
        assert.equal(res.body.error.code, 'STORE_UNAVAILABLE');
        assert.ok(Number(res.headers['retry-after']) >= 1);
      }
      // The captcha check cannot be done: the login is refused, never let through.
      const login = await request(server.port, 'POST', '/api/auth/login', { body: { phone, password: PASSWORD, captcha_id: pending.body.captcha_id, captcha: 'TEST' } });
      assert.equal(login.status, 503);
      const ready = await request(server.port, 'GET', '/readyz');
      assert.equal(ready.status, 503);
      assert.equal(ready.body.checks.kv, 'down');
      assert.equal((await request(server.port, 'GET', '/healthz')).status, 200);

      await startRedis();
      let recovered = false;
      for (let i = 0; i < 60 && !recovered; i++) {
        await sleep(250);
        recovered = (await request(server.port, 'GET', '/readyz')).status === 200;
      }
      assert.ok(recovered, 'ready again once Redis is back');
      // A fresh Redis holds none of the old captchas; new flows work end to end.
      assert.equal((await loginThrough(server.port, phone, PASSWORD)).status, 200);
    } finally {
      await server.stop();
    }
  });
});
