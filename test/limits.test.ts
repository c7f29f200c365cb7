// Lockout and rate limits hold across worker processes: they live in the shared store.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { cookieOf, loginThrough, mapConcurrent, metricValue, registerThrough, request, runCli, scrapeMetrics, startServer, type HttpResult, type ServerProcess } from './helpers/cluster.js';

const PASSWORD = 'a good long passphrase';

/** The known-device cookie a sign-in set, as the browser sends it back. */
function deviceCookieOf(result: HttpResult): string {
  const cookie = result.headers['set-cookie']?.find((c) => c.startsWith('gatehouse_device='));
  assert.ok(cookie, 'no known-device cookie');
  return cookie.split(';')[0]!;
}

describe('account lockout over four workers', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer({ workers: 4 });
  });
  after(() => server?.stop());

  /** A password login from a browser that sends `cookie`. */
  async function loginWithCookie(phone: string, password: string, cookie: string) {
    const captcha = await request(server.port, 'GET', '/api/auth/captcha/generate?purpose=login');
    return request(server.port, 'POST', '/api/auth/login', { cookie, body: { phone, password, captcha_id: captcha.body.captcha_id, captcha: 'TEST' } });
  }

  it('wrong passwords spread over the workers lock at exactly 5; the correct one is refused while locked; an admin unlocks', async () => {
    const phone = '13600000001';
    assert.equal((await registerThrough(server.port, server.invitationCode, phone)).status, 201);
    const workers = new Set<string>();
    const attemptsLeft: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await loginThrough(server.port, phone, 'wrong password!');
      assert.equal(res.status, 401);
      attemptsLeft.push(res.body.error.attempts_left);
      workers.add(res.worker!);
    }
    assert.deepEqual(attemptsLeft, [4, 3, 2, 1]);
    assert.ok(workers.size >= 2, 'failures landed on several workers');
    const locking = await loginThrough(server.port, phone, 'wrong password!');
    assert.equal(locking.status, 423);
    assert.equal(locking.body.error.code, 'ACCOUNT_LOCKED');
    assert.ok(Number(locking.headers['retry-after']) > 0);
    const correctWhileLocked = await loginThrough(server.port, phone, PASSWORD);
    assert.equal(correctWhileLocked.status, 423);

    const unlocked = await runCli(['user', 'unlock', '--phone', phone], { DATA_DIR: server.dataDir });
    assert.equal(unlocked.code, 0, unlocked.stderr);
    assert.equal((await loginThrough(server.port, phone, PASSWORD)).status, 200);
  });

  it('concurrent wrong passwords: exactly 4 get 401, the rest 423, one lockout counted', async () => {
    const phone = '13600000002';
    assert.equal((await registerThrough(server.port, server.invitationCode, phone)).status, 201);
    const before = metricValue(await scrapeMetrics(server.port), 'gatehouse_lockouts_total');
    const results = await Promise.all(Array.from({ length: 16 }, () => loginThrough(server.port, phone, 'wrong password!')));
    assert.equal(results.filter((r) => r.status === 401).length, 4, JSON.stringify(results.map((r) => r.status)));
    assert.equal(results.filter((r) => r.status === 423).length, 12);
    const after = metricValue(await scrapeMetrics(server.port), 'gatehouse_lockouts_total');
    assert.equal(after - before, 1);
  });

  it('a successful login resets the count', async () => {
    const phone = '13600000003';
    assert.equal((await registerThrough(server.port, server.invitationCode, phone)).status, 201);
    for (let i = 0; i < 3; i++) await loginThrough(server.port, phone, 'wrong password!');
    assert.equal((await loginThrough(server.port, phone, PASSWORD)).status, 200);
    assert.equal((await loginThrough(server.port, phone, 'wrong password!')).body.error.attempts_left, 4);
  });

  it('unknown phone numbers show the same attempts_left and lock the same way (no enumeration)', async () => {
    const unknown = '13600009999';
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await loginThrough(server.port, unknown, 'wrong password!'));
    assert.deepEqual(results.map((r) => r.status), [401, 401, 401, 401, 423, 423]);
    assert.deepEqual(results.slice(0, 4).map((r) => r.body.error.attempts_left), [4, 3, 2, 1]);
  });

  it("a stranger's wrong passwords do not lock the owner's known device out; the device's own failures lock it at exactly 5, briefly", async () => {
    const phone = '13600000005';
    const registered = await registerThrough(server.port, server.invitationCode, phone);
    assert.equal(registered.status, 201);
    const device = { cookie: deviceCookieOf(registered) };

    const stranger = await Promise.all(Array.from({ length: 16 }, () => loginThrough(server.port, phone, 'wrong password!')));
    assert.equal(stranger.filter((r) => r.status === 401).length, 4, JSON.stringify(stranger.map((r) => r.status)));
    assert.equal(stranger.filter((r) => r.status === 423).length, 12);
    // The owner's browser, on whichever worker: in, however often strangers are refused.
    const owner = await Promise.all(Array.from({ length: 4 }, () => loginWithCookie(phone, PASSWORD, device.cookie)));
    assert.deepEqual(owner.map((r) => r.status), [200, 200, 200, 200]);
    assert.ok(new Set(owner.map((r) => r.worker)).size >= 2);

    const own = await Promise.all(Array.from({ length: 16 }, () => loginWithCookie(phone, 'wrong password!', device.cookie)));
    assert.equal(own.filter((r) => r.status === 401).length, 4, JSON.stringify(own.map((r) => r.status)));
    const waits = own.filter((r) => r.status === 423);
    assert.equal(waits.length, 12);
    assert.ok(waits.every((r) => Number(r.headers['retry-after']) <= 30), 'a known device waits LOCKOUT_KNOWN_DEVICE_SECONDS, not a lockout');
    // Its failures are its own: a stranger starts from a full count (the owner's sign-in lifted their lock).
    assert.equal((await loginThrough(server.port, phone, 'wrong password!')).body.error.attempts_left, 4);
  });

  it('wrong codes to turn two-factor off, concurrent on every worker: exactly 4 answered, the rest 429', async () => {
    const phone = '13600000006';
    const session = cookieOf(await registerThrough(server.port, server.invitationCode, phone));
    const secret = (await request(server.port, 'POST', '/api/auth/2fa/setup', { cookie: session, body: { current_password: PASSWORD } })).body.secret as string;
    const totp = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 });
    assert.equal((await request(server.port, 'POST', '/api/auth/2fa/enable', { cookie: session, body: { code: totp.generate() } })).status, 200);
    const wrong = totp.generate() === '000000' ? '999999' : '000000';
    const results = await Promise.all(Array.from({ length: 12 }, () => request(server.port, 'POST', '/api/auth/2fa/disable', { cookie: session, body: { current_password: PASSWORD, code: wrong } })));
    assert.equal(results.filter((r) => r.status === 400).length, 4, JSON.stringify(results.map((r) => r.status)));
    const limited = results.filter((r) => r.status === 429);
    assert.equal(limited.length, 8);
    assert.ok(limited.every((r) => r.body.error.limit === 'two_factor_disable' && Number(r.headers['retry-after']) > 0));
    assert.ok(new Set(results.map((r) => r.worker)).size >= 2);
    assert.equal((await request(server.port, 'GET', '/api/auth/me', { cookie: session })).body.user.two_factor_enabled, true);
  });

  it('while one account takes 1,000 wrong passwords, 50 other accounts log in normally', async () => {
    const victim = '13600000004';
    assert.equal((await registerThrough(server.port, server.invitationCode, victim)).status, 201);
    const others = Array.from({ length: 50 }, (_, i) => `1361${String(i).padStart(7, '0')}`);
    await mapConcurrent(others, 10, async (phone) => assert.equal((await registerThrough(server.port, server.invitationCode, phone)).status, 201));

    const attack = mapConcurrent(Array.from({ length: 1000 }), 16, () => loginThrough(server.port, victim, 'guess guess guess'));
    const legit = mapConcurrent(others, 10, (phone) => loginThrough(server.port, phone, PASSWORD));
    const [attackResults, legitResults] = await Promise.all([attack, legit]);
    assert.deepEqual(legitResults.map((r) => r.status), others.map(() => 200));
    assert.equal(attackResults.filter((r) => r.status === 401).length, 4);
    assert.equal(attackResults.filter((r) => r.status === 423).length, 996);
  });
});

describe('rate limits over four workers', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer({
      workers: 4,
      env: { RATE_LIMIT_CAPTCHA_PER_IP: '10/60', RATE_LIMIT_LOGIN_PER_ACCOUNT: '6/60', RATE_LIMIT_REGISTER_PER_IP: '3/60', TRUST_PROXY: '127.0.0.1' },
    });
  });
  after(() => server?.stop());

  it('captcha generation per address: exactly the limit passes, however the requests are spread', async () => {
    const ip = { 'x-forwarded-for': '203.0.113.10' };
    const results = await Promise.all(Array.from({ length: 16 }, () => request(server.port, 'GET', '/api/auth/captcha/generate', { headers: ip })));
    assert.equal(results.filter((r) => r.status === 200).length, 10);
    const limited = results.filter((r) => r.status === 429);
    assert.equal(limited.length, 6);
    assert.ok(limited.every((r) => r.body.error.code === 'RATE_LIMITED' && r.body.error.limit === 'captcha_ip' && r.body.error.scope === 'address' && Number(r.headers['retry-after']) >= 1));
    assert.ok(new Set(results.map((r) => r.worker)).size >= 2);
    // Another address has its own budget.
    assert.equal((await request(server.port, 'GET', '/api/auth/captcha/generate', { headers: { 'x-forwarded-for': '203.0.113.11' } })).status, 200);
  });

  it('registration per address', async () => {
    const headers = { 'x-forwarded-for': '203.0.113.20' };
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      const captcha = await request(server.port, 'GET', '/api/auth/captcha/generate', { headers: { 'x-forwarded-for': `198.51.100.${i}` } });
      const res = await request(server.port, 'POST', '/api/auth/register', {
        headers,
        body: { phone: `1362000000${i}`, password: PASSWORD, name: 'R', invitation_code: server.invitationCode, captcha_id: captcha.body.captcha_id, captcha: 'TEST' },
      });
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, [201, 201, 201, 429, 429]);
  });

  it('login attempts per account, whatever the address', async () => {
    const results = [];
    for (let i = 0; i < 8; i++) results.push(await loginThrough(server.port, '13630000000', 'wrong password!', { 'x-forwarded-for': `198.51.100.${i}` }));
    const statuses = results.map((r) => r.status);
    assert.deepEqual(statuses.slice(6), [429, 429]);
    assert.deepEqual(results.slice(6).map((r) => [r.body.error.limit, r.body.error.scope]), [['login_account', 'account'], ['login_account', 'account']]);
    assert.ok(statuses.slice(0, 6).every((s) => s === 401 || s === 423));
  });

  it("attempts without a valid captcha cost their sender nothing and so cannot spend an account's budget and keep its owner out", async () => {
    const phone = '13640000000';
    const captcha = await request(server.port, 'GET', '/api/auth/captcha/generate?purpose=register', { headers: { 'x-forwarded-for': '198.51.100.200' } });
    const registered = await request(server.port, 'POST', '/api/auth/register', {
      headers: { 'x-forwarded-for': '198.51.100.200' },
      body: { phone, password: PASSWORD, name: 'R', invitation_code: server.invitationCode, captcha_id: captcha.body.captcha_id, captcha: 'TEST' },
    });
    assert.equal(registered.status, 201);
    // Twenty attempts from twenty addresses, more than the account's six, none with a captcha solved.
    const forged = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        request(server.port, 'POST', '/api/auth/login', { headers: { 'x-forwarded-for': `192.0.2.${i}` }, body: { phone, password: 'guess guess guess', captcha_id: 'made-up', captcha: 'ABCD' } }),
      ),
    );
    assert.ok(forged.every((r) => r.status === 400 && r.body.error.code.startsWith('CAPTCHA_')), JSON.stringify(forged.map((r) => r.status)));
    assert.equal((await loginThrough(server.port, phone, PASSWORD, { 'x-forwarded-for': '198.51.100.201' })).status, 200);
  });

  it('an IPv6 client counts by its /64: new addresses in the same network share one budget', async () => {
    const inNetwork = (i: number) => ({ 'x-forwarded-for': `2001:db8:aa:bb:${i.toString(16)}::${i + 1}` });
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => request(server.port, 'GET', '/api/auth/captcha/generate', { headers: inNetwork(i) })));
    assert.deepEqual(results.map((r) => r.status).sort(), [...Array(10).fill(200), ...Array(6).fill(429)]);
    assert.ok(new Set(results.map((r) => r.worker)).size >= 2);
    // The same network written another way is the same client; the next network is another one.
    assert.equal((await request(server.port, 'GET', '/api/auth/captcha/generate', { headers: { 'x-forwarded-for': '2001:DB8:AA:BB:0:0:0:FFFF' } })).status, 429);
    assert.equal((await request(server.port, 'GET', '/api/auth/captcha/generate', { headers: { 'x-forwarded-for': '2001:db8:aa:bc::1' } })).status, 200);
  });

  it('registrations and login attempts per address count an IPv6 network too; sessions and the audit log keep the exact address', async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      const captcha = await request(server.port, 'GET', '/api/auth/captcha/generate', { headers: { 'x-forwarded-for': `198.51.100.${50 + i}` } });
      const res = await request(server.port, 'POST', '/api/auth/register', {
        headers: { 'x-forwarded-for': `2001:db8:cc:dd::${i + 1}` },
        body: { phone: `1362100000${i}`, password: PASSWORD, name: 'R', invitation_code: server.invitationCode, captcha_id: captcha.body.captcha_id, captcha: 'TEST' },
      });
      statuses.push(res.status);
      if (i === 0) {
        const sessions = await request(server.port, 'GET', '/api/auth/sessions', { cookie: cookieOf(res) });
        assert.equal(sessions.body.sessions[0].ip, '2001:db8:cc:dd::1');
      }
    }
    assert.deepEqual(statuses, [201, 201, 201, 429, 429]);
  });
});

describe('one server: a dual-stack listener, RATE_LIMIT_IPV6_PREFIX=56, RATE_LIMIT_EXEMPT; an administrator lifting an address\'s limits', () => {
  // HOST=:: takes IPv4 clients too, and sees them as IPv4-mapped IPv6 addresses (::ffff:127.0.0.2).
  const ENV = { HOST: '::', RATE_LIMIT_CAPTCHA_PER_IP: '3/60', RATE_LIMIT_IPV6_PREFIX: '56', RATE_LIMIT_EXEMPT: '203.0.113.0/24, 2001:db8:5::/48', TRUST_PROXY: '127.0.0.1' };
  let server: ServerProcess;
  let bearer: Record<string, string>;
  before(async () => {
    server = await startServer({ workers: 2, env: ENV });
    const created = await runCli(['apikey', 'create', '--name', 'ops', '--scopes', 'admin', '--json'], { DATA_DIR: server.dataDir });
    assert.equal(created.code, 0, created.stderr);
    bearer = { authorization: `Bearer ${JSON.parse(created.stdout).key}` };
  });
  after(() => server?.stop());

  const generateFrom = (options: { headers?: Record<string, string>; localAddress?: string }) => request(server.port, 'GET', '/api/auth/captcha/generate', options);
  const generate = (address: string) => generateFrom({ headers: { 'x-forwarded-for': address } });
  const captchaUse = (state: { limits: Array<{ limit: string; used: number; points: number; resets_in_seconds: number }> }) => state.limits.find((l) => l.limit === 'captcha_ip');

  it('the prefix is the setting: two /64s of one /56 are one client, the next /56 another', async () => {
    const statuses = [];
    for (const network of ['2001:db8:0:1100', '2001:db8:0:11ff', '2001:db8:0:1101', '2001:db8:0:1180']) statuses.push((await generateFrom({ headers: { 'x-forwarded-for': `${network}::1` } })).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    assert.equal((await generateFrom({ headers: { 'x-forwarded-for': '2001:db8:0:1200::1' } })).status, 200);
  });

  it('IPv4 clients of a dual-stack listener count by their IPv4 address, not as one IPv6 network', async () => {
    const a = [];
    for (let i = 0; i < 4; i++) a.push((await generateFrom({ localAddress: '127.0.0.2' })).status);
    assert.deepEqual(a, [200, 200, 200, 429]);
    assert.equal((await generateFrom({ localAddress: '127.0.0.3' })).status, 200);
  });

  it('addresses of RATE_LIMIT_EXEMPT are not counted by the per-address limits; others are', async () => {
    for (const address of ['203.0.113.5', '2001:db8:5:77::1']) {
      const statuses = await Promise.all(Array.from({ length: 6 }, () => generate(address)));
      assert.deepEqual(statuses.map((r) => r.status), [200, 200, 200, 200, 200, 200], address);
    }
    const other = [];
    for (let i = 0; i < 4; i++) other.push((await generate('2001:db8:6::1')).status);
    assert.deepEqual(other, [200, 200, 200, 429]);
    const exempt = await request(server.port, 'GET', '/api/admin/rate-limits?address=203.0.113.5', { headers: bearer });
    assert.equal(exempt.body.exempt, true);
    assert.equal(captchaUse(exempt.body)!.used, 0);
  });

  it('an administrator sees what an address has used, lifts it, and the address is let through again; the CLI does the same on the shared store', async () => {
    const address = '198.51.100.77';
    for (let i = 0; i < 3; i++) assert.equal((await generate(address)).status, 200);
    assert.equal((await generate(address)).status, 429);

    const seen = await request(server.port, 'GET', `/api/admin/rate-limits?address=${address}`, { headers: bearer });
    assert.equal(seen.status, 200);
    assert.equal(seen.body.network, address);
    assert.equal(seen.body.exempt, false);
    assert.deepEqual(captchaUse(seen.body), { limit: 'captcha_ip', points: 3, used: 3, resets_in_seconds: captchaUse(seen.body)!.resets_in_seconds });
    assert.ok(captchaUse(seen.body)!.resets_in_seconds > 0);
    assert.deepEqual(seen.body.limits.map((l: { limit: string }) => l.limit), ['captcha_ip', 'invitation_ip', 'register_ip', 'login_ip', 'sms_ip']);

    const lifted = await request(server.port, 'POST', '/api/admin/rate-limits/reset', { headers: bearer, body: { address } });
    assert.equal(lifted.status, 200);
    assert.equal(captchaUse(lifted.body)!.used, 0);
    assert.equal((await generate(address)).status, 200, 'let through again, on whichever worker');
    const events = await request(server.port, 'GET', '/api/admin/audit?event=admin.rate_limits_reset', { headers: bearer });
    assert.equal(events.body.events[0].target, `network:${address}`);

    // An IPv6 address is looked at and lifted by its network (a /56 here); the CLI works on the same shared store.
    const v6 = ['2001:db8:7:1::a', '2001:db8:7:1::b', '2001:db8:7:1::c'];
    for (const a of v6) assert.equal((await generate(a)).status, 200);
    assert.equal((await generate('2001:db8:7:1::d')).status, 429);
    // The command line reads the server's configuration (the prefix, the limits) from the same environment, as in production.
    const cliEnv = { DATA_DIR: server.dataDir, ...ENV };
    const shown = await runCli(['limits', 'show', '--address', '2001:db8:7:1::ffff', '--json'], cliEnv);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(JSON.parse(shown.stdout).network, '2001:db8:7::/56');
    assert.equal(captchaUse(JSON.parse(shown.stdout))!.used, 3);
    const reset = await runCli(['limits', 'reset', '--address', '2001:db8:7:1::1'], cliEnv);
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /limits lifted for 2001:db8:7::\/56/);
    assert.equal((await generate('2001:db8:7:1::e')).status, 200);
  });

  it('bad input gets a 400, and only an administrator may look or lift', async () => {
    for (const query of ['', '?address=', '?address=not-an-address', '?address=1.2.3.4&extra=1', '?address=1.2.3.4/24']) {
      const res = await request(server.port, 'GET', `/api/admin/rate-limits${query}`, { headers: bearer });
      assert.equal(res.status, 400, query);
      assert.equal(res.body.error.code, 'VALIDATION_FAILED');
    }
    for (const body of [{}, { address: 42 }, { address: 'example.com' }, { address: '1.2.3.4', more: true }]) {
      const res = await request(server.port, 'POST', '/api/admin/rate-limits/reset', { headers: bearer, body });
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    assert.equal((await request(server.port, 'GET', '/api/admin/rate-limits?address=1.2.3.4')).status, 401);
    assert.equal((await request(server.port, 'POST', '/api/admin/rate-limits/reset', { body: { address: '1.2.3.4' } })).status, 401);
    const badCli = await runCli(['limits', 'reset', '--address', 'nope'], { DATA_DIR: server.dataDir });
    assert.notEqual(badCli.code, 0);
    assert.match(badCli.stderr, /--address takes an IPv4 or IPv6 address/);
  });
});

describe('client address', () => {
  it('without TRUST_PROXY, X-Forwarded-For is ignored: a client cannot forge its way past a per-address limit', async () => {
    const server = await startServer({ workers: 2, env: { RATE_LIMIT_CAPTCHA_PER_IP: '5/60' } });
    try {
      const statuses = [];
      for (let i = 0; i < 7; i++) statuses.push((await request(server.port, 'GET', '/api/auth/captcha/generate', { headers: { 'x-forwarded-for': `10.0.0.${i}` } })).status);
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
    } finally {
      await server.stop();
    }
  });
});
