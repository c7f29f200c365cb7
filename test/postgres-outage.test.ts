// PostgreSQL goes down (like a crash) and comes back: 503 within a bounded time meanwhile, nothing
// that does not need it breaks, no restart needed, no acknowledged write lost, and no worker process
// dies of the connections dropped under it while requests were using them (startServer checks that
// at stop).
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, it } from 'node:test';
import { cookieOf, loginThrough, registerThrough, request, runCli, startServer, type ServerProcess } from './helpers/cluster.js';
import { client, CookieJar, relyingParty, signInSilently } from './helpers/oidc.js';
import { startOwnPostgres, type OwnPostgres } from './helpers/own-postgres.js';
import { unmet } from './helpers/requirements.js';

const skip = await unmet('postgres-binaries');

let postgres: OwnPostgres;
let server: ServerProcess;
before(async () => {
  if (skip) return;
  postgres = await startOwnPostgres();
  server = await startServer({ workers: 2, env: { DATABASE_URL: postgres.url } });
});
after(async () => {
  if (skip) return;
  await server?.stop();
  postgres?.destroy();
});

/** Requests that keep the database's connections in use until stopped; the statuses they got. */
function keepBusy(cookie: string, concurrency: number) {
  let running = true;
  const statuses: number[] = [];
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) statuses.push((await request(server.port, 'GET', '/api/auth/me', { cookie })).status);
  });
  return async () => {
    running = false;
    await Promise.all(loops);
    return statuses;
  };
}

it('PostgreSQL down: 503 STORE_UNAVAILABLE at once, not ready, captchas still served; back: works, writes kept', { skip }, async () => {
  const phones = Array.from({ length: 10 }, (_, i) => `1390000${String(i).padStart(4, '0')}`);
  for (const phone of phones) assert.equal((await registerThrough(server.port, server.invitationCode, phone)).status, 201);
  const cookie = cookieOf(await loginThrough(server.port, phones[0]!, 'a good long passphrase'));

  // An app signed in through the provider before the crash, holding a refresh token.
  const created = await runCli(['clients', 'create', '--name', 'Timetable', '--redirect-uri', 'http://127.0.0.1:7/callback', '--first-party', '--json'], { DATABASE_URL: postgres.url });
  assert.equal(created.code, 0, created.stderr);
  const app = JSON.parse(created.stdout) as { client_id: string; client_secret: string };
  const issuer = `http://localhost:${server.port}`;
  const rp = await relyingParty(issuer, app.client_id, app.client_secret, 'http://127.0.0.1:7/callback');
  let { refresh_token: refreshToken } = (await signInSilently(rp, new CookieJar(cookie), issuer, 'openid offline_access')).tokens;

  const stopBusy = keepBusy(cookie, 8);
  await sleep(300);
  postgres.crash();
  // The provider answers as the rest of Gatehouse does: 503 and Retry-After, in OAuth's words.
  const refreshDown = await fetch(`${issuer}/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken! }),
  });
  assert.equal(refreshDown.status, 503);
  assert.equal(((await refreshDown.json()) as { error: string }).error, 'temporarily_unavailable');
  assert.ok(Number(refreshDown.headers.get('retry-after')) >= 1);
  for (const send of [
    () => registerThrough(server.port, server.invitationCode, '13901111111'),
    () => loginThrough(server.port, phones[1]!, 'a good long passphrase'),
    () => request(server.port, 'GET', '/api/auth/me', { cookie }),
  ]) {
    const started = performance.now();
    const res = await send();
    assert.ok(performance.now() - started < 12_000, 'answered within the bound');
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.body.error.code, 'STORE_UNAVAILABLE');
    assert.ok(Number(res.headers['retry-after']) >= 1);
  }
  const duringCrash = await stopBusy();
  assert.deepEqual([...new Set(duringCrash)].sort(), [200, 503], 'requests in flight at the crash: answered, or 503');
  const ready = await request(server.port, 'GET', '/readyz');
  assert.equal(ready.status, 503);
  assert.equal(ready.body.checks.database, 'down');
  assert.equal((await request(server.port, 'GET', '/api/auth/captcha/generate')).status, 200, 'what does not need the database still works');

  postgres.start();
  let recovered = false;
  for (let i = 0; i < 80 && !recovered; i++) {
    await sleep(250);
    recovered = (await request(server.port, 'GET', '/readyz')).status === 200;
  }
  assert.ok(recovered, 'ready again without a restart');
  assert.equal((await request(server.port, 'GET', '/api/auth/me', { cookie })).status, 200, 'the session written before the crash is there');
  for (const phone of phones) assert.equal((await loginThrough(server.port, phone, 'a good long passphrase')).status, 200, `account ${phone} kept`);
  assert.equal((await registerThrough(server.port, server.invitationCode, '13901111111')).status, 201);
  // The refresh token refused during the outage was not used up by it.
  ({ refresh_token: refreshToken } = await client.refreshTokenGrant(rp.config, refreshToken!));
  assert.ok(refreshToken);
});
