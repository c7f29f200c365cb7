// Two-factor sign-in with an authenticator app (TOTP) and recovery codes: setting it up, signing in
// with it after a password or an SMS code, codes that work once, the lockout, turning it off, and an
// administrator's reset. Codes are computed here from the secret, as the owner's app would.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { adminSession, authenticatorCode, createTestApp, login, register, sessionCookie, smsCode, startTaskConsumer, uniquePhone, type TestApp } from './helpers/app.js';
import { cookieOf, loginThrough, registerThrough, request, runCli, startServer, type ServerProcess } from './helpers/cluster.js';
import type { TaskConsumer } from '../src/tasks/types.js';

const PASSWORD = 'correct horse battery';

/** The code an authenticator app shows for `secret`, `stepsAhead` periods of 30 s from now. */

describe('two-factor sign-in', () => {
  let t: TestApp;
  let tasks: TaskConsumer;
  before(async () => {
    t = await createTestApp();
    tasks = startTaskConsumer(t);
  });
  after(async () => {
    await tasks.stop();
    await t.close();
  });

  const post = (url: string, payload: unknown, cookie?: string) => t.app.inject({ method: 'POST', url, payload: payload as object, headers: cookie ? { cookie } : {} });

  /** A registered account with two-factor sign-in on: its phone, secret, recovery codes and session. */
  async function accountWithTwoFactor(): Promise<{ phone: string; secret: string; recovery: string[]; cookie: string; id: number }> {
    const phone = uniquePhone();
    const registered = await register(t, { phone });
    assert.equal(registered.statusCode, 201);
    const cookie = sessionCookie(registered);
    const setup = await post('/api/auth/2fa/setup', { current_password: PASSWORD }, cookie);
    assert.equal(setup.statusCode, 200, setup.body);
    const { secret } = setup.json();
    // The previous period's code (a clock 30 s slow): this period's stays unused for the tests' sign-ins.
    const enabled = await post('/api/auth/2fa/enable', { code: authenticatorCode(secret, -1) }, cookie);
    assert.equal(enabled.statusCode, 200, enabled.body);
    return { phone, secret, recovery: enabled.json().recovery_codes, cookie, id: registered.json().user.id };
  }

  /** The password step of a sign-in: the challenge of its 401 TWO_FACTOR_REQUIRED. */
  async function challengeFor(phone: string): Promise<string> {
    const res = await login(t, phone, PASSWORD);
    assert.equal(res.statusCode, 401, res.body);
    assert.equal(res.json().error.code, 'TWO_FACTOR_REQUIRED');
    assert.equal(res.cookies.length, 0, 'no session before the second factor');
    return res.json().error.challenge;
  }

  const secondStep = (challenge: string, code: string) => post('/api/auth/login/2fa', { challenge, code });
  const errorCode = (res: LightMyRequestResponse) => res.json().error?.code as string | undefined;

  it('is set up with the current password and a first code from the app, and gives ten recovery codes once', async () => {
    const phone = uniquePhone();
    const cookie = sessionCookie(await register(t, { phone }));
    const wrongPassword = await post('/api/auth/2fa/setup', { current_password: 'not my password' }, cookie);
    assert.equal(wrongPassword.statusCode, 401);
    assert.equal(errorCode(wrongPassword), 'INVALID_CREDENTIALS');
    assert.equal((await post('/api/auth/2fa/enable', { code: '123456' }, cookie)).json().error.code, 'TWO_FACTOR_SETUP_EXPIRED', 'nothing to confirm before a setup');

    const setup = await post('/api/auth/2fa/setup', { current_password: PASSWORD }, cookie);
    const { secret, otpauth_uri, qr_svg } = setup.json();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.match(otpauth_uri, /^otpauth:\/\/totp\/Gatehouse:%2B86\d+\?.*secret=[A-Z2-7]{32}/);
    assert.match(qr_svg, /^<svg/);
    assert.equal(setup.headers['cache-control'], 'no-store');

    const wrong = await post('/api/auth/2fa/enable', { code: authenticatorCode(secret) === '000000' ? '111111' : '000000' }, cookie);
    assert.equal(wrong.statusCode, 400);
    assert.equal(errorCode(wrong), 'INVALID_TWO_FACTOR_CODE');
    const enabled = await post('/api/auth/2fa/enable', { code: authenticatorCode(secret) }, cookie);
    assert.equal(enabled.statusCode, 200);
    const codes: string[] = enabled.json().recovery_codes;
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const code of codes) assert.match(code, /^[a-z2-9]{5}-[a-z2-9]{5}$/);
    const me = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } });
    assert.equal(me.json().user.two_factor_enabled, true);
    assert.equal(errorCode(await post('/api/auth/2fa/setup', { current_password: PASSWORD }, cookie)), 'TWO_FACTOR_ALREADY_ENABLED');
    // Stored sealed: the database holds neither the secret nor a recovery code.
    const row = await t.database.db.selectFrom('users').selectAll().where('phone', '=', `+86${phone}`).executeTakeFirstOrThrow();
    assert.ok(row.totp_secret && !row.totp_secret.includes(secret));
    assert.ok(!codes.some((c) => row.totp_recovery_codes!.includes(c.replace('-', ''))));
  });

  it('signing in takes the password, then a code: each code works once, and a challenge makes one session', async () => {
    const { phone, secret } = await accountWithTwoFactor();
    const challenge = await challengeFor(phone);
    const code = authenticatorCode(secret);
    const done = await secondStep(challenge, code);
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json().user.two_factor_enabled, true);
    const cookie = sessionCookie(done);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } })).statusCode, 200);
    assert.equal(errorCode(await secondStep(challenge, authenticatorCode(secret, 1))), 'TWO_FACTOR_EXPIRED', 'the challenge made its session');

    const replay = await secondStep(await challengeFor(phone), code);
    assert.equal(replay.statusCode, 401);
    assert.equal(errorCode(replay), 'INVALID_CREDENTIALS', 'a code seen before is refused');
    assert.equal(replay.json().error.field, 'body.code');
    assert.equal((await secondStep(await challengeFor(phone), authenticatorCode(secret, 1))).statusCode, 200, "the next period's code (a clock 30 s fast) works");
    assert.equal(errorCode(await secondStep('not-a-challenge', authenticatorCode(secret))), 'TWO_FACTOR_EXPIRED');
  });

  it('a recovery code signs in once, typed any way', async () => {
    const { phone, recovery } = await accountWithTwoFactor();
    const typed = ` ${recovery[3]!.toUpperCase().replace('-', ' ')} `;
    assert.equal((await secondStep(await challengeFor(phone), typed)).statusCode, 200);
    assert.equal(errorCode(await secondStep(await challengeFor(phone), recovery[3]!)), 'INVALID_CREDENTIALS', 'used up');
    assert.equal((await secondStep(await challengeFor(phone), recovery[4]!)).statusCode, 200);
  });

  it('wrong codes count towards the lockout, like wrong passwords', async () => {
    const { phone, secret } = await accountWithTwoFactor();
    const challenge = await challengeFor(phone);
    const wrong = authenticatorCode(secret) === '000000' ? '999999' : '000000';
    const attemptsLeft: number[] = [];
    for (let i = 0; i < 4; i++) attemptsLeft.push((await secondStep(challenge, wrong)).json().error.attempts_left);
    assert.deepEqual(attemptsLeft, [4, 3, 2, 1]);
    const locked = await secondStep(challenge, wrong);
    assert.equal(locked.statusCode, 423);
    assert.equal(errorCode(await secondStep(challenge, authenticatorCode(secret))), 'ACCOUNT_LOCKED', 'not even the right code while locked');
  });

  it('an SMS code is a first factor: the app code is still needed', async () => {
    const { phone, secret } = await accountWithTwoFactor();
    const res = await post('/api/auth/login/sms', { phone, code: await smsCode(t, phone, 'login') });
    assert.equal(res.statusCode, 401);
    assert.equal(errorCode(res), 'TWO_FACTOR_REQUIRED');
    assert.equal((await secondStep(res.json().error.challenge, authenticatorCode(secret))).statusCode, 200);
  });

  it('the owner turns it off with the password and a code; an administrator resets it for a lost phone', async () => {
    const owner = await accountWithTwoFactor();
    assert.equal(errorCode(await post('/api/auth/2fa/disable', { current_password: PASSWORD, code: '12345' }, owner.cookie)), 'INVALID_TWO_FACTOR_CODE');
    assert.equal((await post('/api/auth/2fa/disable', { current_password: PASSWORD, code: owner.recovery[0]! }, owner.cookie)).statusCode, 204);
    assert.equal((await login(t, owner.phone, PASSWORD)).statusCode, 200, 'the password alone again');
    assert.equal(errorCode(await post('/api/auth/2fa/disable', { current_password: PASSWORD, code: owner.recovery[1]! }, owner.cookie)), 'TWO_FACTOR_NOT_ENABLED');

    const lost = await accountWithTwoFactor();
    const admin = await adminSession(t);
    const reset = await post(`/api/admin/users/${lost.id}/reset-two-factor`, {}, admin.cookie);
    assert.equal(reset.statusCode, 200, reset.body);
    assert.equal(reset.json().user.two_factor_enabled, false);
    assert.equal((await login(t, lost.phone, PASSWORD)).statusCode, 200);
    assert.equal(errorCode(await post(`/api/admin/users/${lost.id}/reset-two-factor`, {}, admin.cookie)), 'TWO_FACTOR_NOT_ENABLED');
    const events = (await t.app.inject({ method: 'GET', url: `/api/admin/audit?target=user:${lost.id}`, headers: { cookie: admin.cookie } })).json().events.map((e: { event: string }) => e.event);
    assert.ok(events.includes('admin.two_factor_reset') && events.includes('two_factor.enabled'), JSON.stringify(events));
  });
});

describe('ADMIN_REQUIRE_TWO_FACTOR', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ ADMIN_REQUIRE_TWO_FACTOR: 'true' });
  });
  after(() => t.close());

  it('an administrator without two-factor sign-in is kept out of the console until it is on; API keys are not affected', async () => {
    const admin = await adminSession(t, { twoFactor: false });
    const list = (cookie: string) => t.app.inject({ method: 'GET', url: '/api/admin/organizations', headers: { cookie } });
    const refused = await list(admin.cookie);
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().error.code, 'TWO_FACTOR_SETUP_REQUIRED');
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: admin.cookie } })).statusCode, 200, 'the account page still works');

    // An API key made by another route: straight in the database, as `gatehouse apikey create` would.
    const [{ ApiKeyService }, { AuditLog }, { OPERATOR }] = await Promise.all([import('../src/apikeys/service.js'), import('../src/audit/service.js'), import('../src/principal.js')]);
    const { key } = await new ApiKeyService(t.database, { audit: new AuditLog(t.database), defaultTtlDays: 90 }).create(OPERATOR, { name: 'script', scopes: ['admin'] });
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/admin/organizations', headers: { authorization: `Bearer ${key}` } })).statusCode, 200);

    const secret = (await t.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', payload: { current_password: PASSWORD }, headers: { cookie: admin.cookie } })).json().secret;
    assert.equal((await t.app.inject({ method: 'POST', url: '/api/auth/2fa/enable', payload: { code: authenticatorCode(secret) }, headers: { cookie: admin.cookie } })).statusCode, 200);
    assert.equal((await list(admin.cookie)).statusCode, 200);
  });
});

describe('two-factor sign-in across worker processes', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer({ workers: 2 });
  });
  after(() => server?.stop());

  it('one code sent by concurrent requests, to every worker: exactly one session', async () => {
    const phone = '13440000000';
    const cookie = cookieOf(await registerThrough(server.port, server.invitationCode, phone, PASSWORD));
    const setup = await request(server.port, 'POST', '/api/auth/2fa/setup', { cookie, body: { current_password: PASSWORD } });
    const secret = setup.body.secret as string;
    assert.equal((await request(server.port, 'POST', '/api/auth/2fa/enable', { cookie, body: { code: authenticatorCode(secret) } })).status, 200);

    // Five sign-ins, each with its own challenge, racing with the next period's code. (The four
    // refused count towards the lockout, which a fifth would reach.)
    const challenges = await Promise.all(Array.from({ length: 5 }, async () => (await loginThrough(server.port, phone, PASSWORD)).body.error.challenge as string));
    const code = authenticatorCode(secret, 1);
    const results = await Promise.all(challenges.map((challenge) => request(server.port, 'POST', '/api/auth/login/2fa', { body: { challenge, code } })));
    assert.equal(results.filter((r) => r.status === 200).length, 1, JSON.stringify(results.map((r) => r.status)));
    assert.ok(new Set(results.map((r) => r.worker)).size === 2, 'the requests reached both workers');

    const cli = await runCli(['user', 'reset-2fa', '--phone', phone, '--json'], { DATA_DIR: server.dataDir });
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(JSON.parse(cli.stdout), { two_factor_enabled: false });
    assert.equal((await loginThrough(server.port, phone, PASSWORD)).status, 200);
  });
});
