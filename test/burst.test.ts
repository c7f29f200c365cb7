// The workshop: hundreds of registrations at the same moment with one invitation code, from one address.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { availableParallelism } from 'node:os';
import { loginThrough, metricValue, registerThrough, request, runCli, scrapeMetrics, startServer, type ServerProcess } from './helpers/cluster.js';

const PASSWORD = 'a good long passphrase';

function phones(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(11 - prefix.length, '0')}`);
}

/** Registers every phone at the same moment, each with a captcha of its own (fetched first). */
async function registerAtOnce(port: number, invitationCode: string, phoneNumbers: string[]) {
  const captchas = await Promise.all(phoneNumbers.map(() => request(port, 'GET', '/api/auth/captcha/generate?purpose=register')));
  return Promise.all(
    phoneNumbers.map((phone, i) =>
      request(port, 'POST', '/api/auth/register', {
        body: { phone, password: PASSWORD, name: `Teacher ${i}`, invitation_code: invitationCode, captcha_id: captchas[i]!.body.captcha_id, captcha: 'TEST' },
      }),
    ),
  );
}

describe('registration burst (workers = CPU count, embedded SQLite)', () => {
  let server: ServerProcess;
  const workers = Math.max(2, availableParallelism());
  before(async () => {
    server = await startServer({ workers });
  });
  after(() => server?.stop());

  it('500 simultaneous registrations with one invitation code: every one 201, one organization lookup per process at most', async () => {
    const loadsBefore = metricValue(await scrapeMetrics(server.port), 'gatehouse_cache_lookups_total', { cache: 'invitation', outcome: 'load' });
    const results = await registerAtOnce(server.port, server.invitationCode, phones('1355', 500));
    const statuses = new Map<number, number>();
    for (const r of results) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    assert.deepEqual([...statuses], [[201, 500]], JSON.stringify(results.find((r) => r.status !== 201)?.body));
    assert.equal(new Set(results.map((r) => r.body.user.id)).size, 500);

    const metrics = await scrapeMetrics(server.port);
    const loads = metricValue(metrics, 'gatehouse_cache_lookups_total', { cache: 'invitation', outcome: 'load' }) - loadsBefore;
    assert.ok(loads <= workers, `${loads} database lookups of the invitation code for ${workers} processes`);
    assert.equal(metricValue(metrics, 'gatehouse_registrations_total', { result: 'ok' }), 500);

    const orgs = JSON.parse((await runCli(['org', 'list', '--json'], { DATA_DIR: server.dataDir })).stdout);
    assert.equal(orgs[0].user_count, 500);
    assert.equal(orgs[0].invitation_codes[0].uses, 500);
  });

  it('an invitation quota of 100 holds under 150 concurrent registrations', async () => {
    const created = await runCli(['org', 'create', '--name', 'Quota school', '--max-uses', '100', '--json'], { DATA_DIR: server.dataDir });
    const org = JSON.parse(created.stdout);
    const results = await registerAtOnce(server.port, org.invitation_code, phones('1366', 150));
    const created201 = results.filter((r) => r.status === 201).length;
    const refused = results.filter((r) => r.status === 409 && r.body.error.code === 'INVITATION_EXHAUSTED').length;
    assert.equal(created201, 100);
    assert.equal(refused, 50, JSON.stringify(results.filter((r) => r.status !== 201 && r.status !== 409).map((r) => r.body)));
    const orgs = JSON.parse((await runCli(['org', 'list', '--json'], { DATA_DIR: server.dataDir })).stdout);
    const quotaOrg = orgs.find((o: { id: number }) => o.id === org.id);
    assert.equal(quotaOrg.user_count, 100);
    assert.equal(quotaOrg.invitation_codes[0].uses, 100);
  });

  it('revoked and rotated invitation codes stop admitting at once on every worker', async () => {
    const created = JSON.parse((await runCli(['org', 'create', '--name', 'Rotating school', '--json'], { DATA_DIR: server.dataDir })).stdout);
    // Warm every worker's cache with the code.
    for (let i = 0; i < workers * 2; i++) assert.equal((await registerThrough(server.port, created.invitation_code, `1377000000${i}`)).status, 201);
    const rotated = JSON.parse((await runCli(['invite', 'rotate', '--code', created.invitation_code, '--json'], { DATA_DIR: server.dataDir })).stdout);
    for (let i = 0; i < workers * 2; i++) {
      const old = await registerThrough(server.port, created.invitation_code, `1377100000${i}`);
      assert.equal(old.status, 400);
      assert.equal(old.body.error.code, 'INVALID_INVITATION_CODE');
    }
    assert.equal((await registerThrough(server.port, rotated.invitation_code, '13772000000')).status, 201);
    await runCli(['invite', 'revoke', '--code', rotated.invitation_code], { DATA_DIR: server.dataDir });
    assert.equal((await registerThrough(server.port, rotated.invitation_code, '13772000001')).body.error.code, 'INVALID_INVITATION_CODE');
  });

  it('a used-up code whose quota is raised admits at once on every worker, whatever their caches hold', async () => {
    const created = JSON.parse((await runCli(['org', 'create', '--name', 'Growing workshop', '--max-uses', '2', '--json'], { DATA_DIR: server.dataDir })).stdout);
    for (let i = 0; i < 2; i++) assert.equal((await registerThrough(server.port, created.invitation_code, `1378000000${i}`)).status, 201);
    // Every worker refuses, and keeps the used-up code in its cache.
    const refused = await registerAtOnce(server.port, created.invitation_code, phones('13781', workers * 4));
    assert.deepEqual(new Set(refused.map((r) => r.body.error?.code)), new Set(['INVITATION_EXHAUSTED']));
    assert.equal(new Set(refused.map((r) => r.worker)).size, workers, 'refused on every worker');
    const raised = await runCli(['invite', 'set', '--code', created.invitation_code, '--max-uses', String(2 + workers * 2), '--json'], { DATA_DIR: server.dataDir });
    assert.equal(raised.code, 0, raised.stderr);
    assert.equal(JSON.parse(raised.stdout).max_uses, 2 + workers * 2);
    const results = await registerAtOnce(server.port, created.invitation_code, phones('13782', workers * 2 + 2));
    assert.deepEqual(results.map((r) => r.status).sort(), [...Array(workers * 2).fill(201), 409, 409], JSON.stringify(results.map((r) => r.body.error?.code)));
  });
});

describe('overload', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer({ workers: 2, env: { HASH_QUEUE_MAX: '8' } });
  });
  after(() => server?.stop());

  it('past the hashing queue limit: a clean 503 with Retry-After at once, nothing half-created, the captcha still usable', async () => {
    const captchas = await Promise.all(Array.from({ length: 200 }, () => request(server.port, 'GET', '/api/auth/captcha/generate?purpose=register')));
    const bodies = phones('1388', 200).map((phone, i) => ({
      phone,
      password: PASSWORD,
      name: 'O',
      invitation_code: server.invitationCode,
      captcha_id: captchas[i]!.body.captcha_id,
      captcha: 'TEST',
    }));
    const results = await Promise.all(bodies.map((body) => request(server.port, 'POST', '/api/auth/register', { body })));
    const ok = results.filter((r) => r.status === 201);
    const overloaded = results.filter((r) => r.status === 503);
    assert.equal(ok.length + overloaded.length, 200, JSON.stringify(results.filter((r) => r.status !== 201 && r.status !== 503).map((r) => r.body)));
    assert.ok(overloaded.length > 0, 'the burst exceeded the queue');
    for (const r of overloaded) {
      assert.equal(r.body.error.code, 'OVERLOADED');
      assert.ok(Number(r.headers['retry-after']) >= 1);
    }
    const orgs = JSON.parse((await runCli(['org', 'list', '--json'], { DATA_DIR: server.dataDir })).stdout);
    assert.equal(orgs[0].user_count, ok.length, 'exactly the 201s are accounts');
    // A refused request used neither its captcha nor its phone: the same request succeeds later.
    const retryIndex = results.findIndex((r) => r.status === 503);
    const retry = await request(server.port, 'POST', '/api/auth/register', { body: bodies[retryIndex] });
    assert.equal(retry.status, 201, JSON.stringify(retry.body));
  });
});

describe('overload and rate limits', () => {
  const LIMIT = 40;
  const LOGIN_PHONE = '13790000000';
  let server: ServerProcess;
  before(async () => {
    // One worker, two places in its hashing queue: a burst of 30 is mostly refused with 503.
    server = await startServer({ workers: 1, env: { HASH_QUEUE_MAX: '2', RATE_LIMIT_REGISTER_PER_IP: `${LIMIT}/600`, RATE_LIMIT_LOGIN_PER_ACCOUNT_IP: `${LIMIT}/600` } });
    // The login test's account, made first: it is one of the address's LIMIT registrations.
    assert.equal((await registerThrough(server.port, server.invitationCode, LOGIN_PHONE)).status, 201);
  });
  after(() => server?.stop());

  it('a registration refused with 503 OVERLOADED spends none of its client’s rate-limit allowance', async () => {
    const burst = await registerAtOnce(server.port, server.invitationCode, phones('1377', 30));
    const created = burst.filter((r) => r.status === 201).length;
    const refused = burst.filter((r) => r.status === 503).length;
    assert.equal(created + refused, 30, JSON.stringify(burst.filter((r) => r.status !== 201 && r.status !== 503).map((r) => r.body)));
    assert.ok(refused > 0, 'the burst exceeded the queue');

    // Only the admitted requests counted: exactly LIMIT - 1 - created more registrations pass, then 429.
    let passed = 0;
    for (const phone of phones('1378', LIMIT)) {
      const r = await registerThrough(server.port, server.invitationCode, phone);
      if (r.status === 429) {
        assert.equal(r.body.error.code, 'RATE_LIMITED');
        break;
      }
      assert.equal(r.status, 201, JSON.stringify(r.body));
      passed++;
    }
    assert.equal(passed, LIMIT - 1 - created);
  });

  it('a login refused with 503 OVERLOADED spends none of the account’s login allowance', async () => {
    const phone = LOGIN_PHONE;
    const captchas = await Promise.all(Array.from({ length: 30 }, () => request(server.port, 'GET', '/api/auth/captcha/generate?purpose=login')));
    const burst = await Promise.all(
      captchas.map((captcha) => request(server.port, 'POST', '/api/auth/login', { body: { phone, password: PASSWORD, captcha_id: captcha.body.captcha_id, captcha: 'TEST' } })),
    );
    const signedIn = burst.filter((r) => r.status === 200).length;
    const refused = burst.filter((r) => r.status === 503).length;
    assert.equal(signedIn + refused, 30, JSON.stringify(burst.filter((r) => r.status !== 200 && r.status !== 503).map((r) => r.body)));
    assert.ok(refused > 0, 'the burst exceeded the queue');

    let passed = 0;
    for (let i = 0; i < LIMIT; i++) {
      const r = await loginThrough(server.port, phone, PASSWORD);
      if (r.status === 429) {
        assert.equal(r.body.error.code, 'RATE_LIMITED');
        break;
      }
      assert.equal(r.status, 200, JSON.stringify(r.body));
      passed++;
    }
    assert.equal(passed, LIMIT - signedIn);
  });
});
