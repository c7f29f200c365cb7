// Two servers (two workers each) behind a real nginx, round-robin, sharing PostgreSQL and Redis.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cookieOf, loginThrough, registerThrough, request, startServer, type ServerProcess } from './helpers/cluster.js';
import { startNginx, type Nginx } from './helpers/nginx.js';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js';
import { TEST_REDIS_URL, uniquePrefix } from './helpers/redis.js';
import { unmet } from './helpers/requirements.js';

const PASSWORD = 'a good long passphrase';

describe('two servers behind nginx', { skip: await unmet('nginx', 'postgres', 'redis') }, () => {
  let database: TestDatabase;
  let servers: ServerProcess[] = [];
  let nginx: Nginx;
  before(async () => {
    database = await createTestDatabase('nginx');
    const env = { DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: uniquePrefix('nginx'), SECRET_KEY: 'k'.repeat(40), TRUST_PROXY: '127.0.0.1' };
    // The first server creates the schema and the first organization; the second finds them.
    servers.push(await startServer({ workers: 2, env }));
    servers.push(await startServer({ workers: 2, env }));
    nginx = await startNginx(servers.map((s) => s.port));
  });
  after(async () => {
    await nginx?.stop();
    await Promise.all(servers.map((s) => s.stop()));
    await database?.drop();
  });

  it('a captcha generated through one server verifies through the other; a session made on one works on the other', async () => {
    const invitation = servers[0]!.invitationCode;
    let crossed = 0;
    for (let i = 0; i < 40; i++) {
      const captcha = await request(nginx.port, 'GET', '/api/auth/captcha/generate?purpose=register');
      const reg = await request(nginx.port, 'POST', '/api/auth/register', {
        body: { phone: `1330000${String(i).padStart(4, '0')}`, password: PASSWORD, name: 'N', invitation_code: invitation, captcha_id: captcha.body.captcha_id, captcha: 'TEST' },
      });
      assert.equal(reg.status, 201, JSON.stringify(reg.body));
      if (captcha.headers['x-upstream'] !== reg.headers['x-upstream']) crossed++;
      const cookie = cookieOf(reg);
      const upstreams = new Set<string>();
      for (let j = 0; j < 4; j++) {
        const me = await request(nginx.port, 'GET', '/api/auth/me', { cookie });
        assert.equal(me.status, 200);
        upstreams.add(String(me.headers['x-upstream']));
      }
      assert.equal(upstreams.size, 2, 'the session was used on both servers');
    }
    assert.ok(crossed >= 10, `${crossed} of 40 captchas crossed servers`);
  });

  it('the lockout counts across both servers', async () => {
    const phone = '13310000000';
    assert.equal((await registerThrough(nginx.port, servers[0]!.invitationCode, phone)).status, 201);
    const upstreams = new Set<string>();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      // Round-robin sends every second request to the same server: shift by one every other attempt.
      if (i % 2 === 1) await request(nginx.port, 'GET', '/healthz');
      const res = await loginThrough(nginx.port, phone, 'wrong password!');
      statuses.push(res.status);
      upstreams.add(String(res.headers['x-upstream']));
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 423, 423]);
    assert.equal(upstreams.size, 2);
  });

  it('500 simultaneous registrations through nginx: no failure', async () => {
    const invitation = servers[0]!.invitationCode;
    const captchas = await Promise.all(Array.from({ length: 500 }, () => request(nginx.port, 'GET', '/api/auth/captcha/generate?purpose=register')));
    const results = await Promise.all(
      captchas.map((c, i) =>
        request(nginx.port, 'POST', '/api/auth/register', {
          body: { phone: `1332${String(i).padStart(7, '0')}`, password: PASSWORD, name: `T${i}`, invitation_code: invitation, captcha_id: c.body.captcha_id, captcha: 'TEST' },
        }),
      ),
    );
    const bad = results.filter((r) => r.status !== 201);
    const logs = servers.map((s) => s.output().split('\n').filter((line) => line.includes('"level":50')).slice(0, 3).join('\n'));
    assert.equal(bad.length, 0, JSON.stringify(bad.slice(0, 3).map((r) => [r.status, r.body])) + '\n' + logs.join('\n'));
    assert.equal(new Set(results.map((r) => r.headers['x-upstream'])).size, 2);
  });
});
