// Lockout as a weapon: a stranger's wrong passwords lock out strangers, not the owner's own devices,
// and the owner's SMS code (with the second factor when it is on) always gets them in. And guessing
// the code that turns two-factor sign-in off is counted and limited.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import { newCaptcha, register, sessionCookie, smsCode, TEST_CAPTCHA, testAppWithTasks, uniquePhone, type TestApp } from '../helpers/app.js';

const PASSWORD = 'correct horse battery';
const WRONG = 'wrong horse battery';
const DEVICE = 'gatehouse_device';

/** The known-device cookie a sign-in answered, as the browser sends it back. */
function deviceCookie(res: LightMyRequestResponse): string {
  const cookie = res.cookies.find((c) => c.name === DEVICE);
  assert.ok(cookie, `no ${DEVICE} cookie in ${res.statusCode} ${res.body}`);
  assert.equal((cookie as { httpOnly?: boolean }).httpOnly, true);
  return `${DEVICE}=${cookie.value}`;
}

function appCode(secret: string, stepsAhead = 0): string {
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({ timestamp: Date.now() + stepsAhead * 30_000 });
}

describe('lockout that hurts the attacker, not the owner', () => {
  let t: TestApp;
  // The per account and address limit stays out of the way: these tests are about the lockout.
  testAppWithTasks({ RATE_LIMIT_LOGIN_PER_ACCOUNT_IP: '100/300' }, (app) => {
    t = app;
  });

  const post = (url: string, payload: object, cookie?: string) => t.app.inject({ method: 'POST', url, payload, headers: cookie ? { cookie } : {} });
  async function login(phone: string, password: string, cookie?: string) {
    return post('/api/auth/login', { phone, password, captcha_id: await newCaptcha(t.app, 'login'), captcha: TEST_CAPTCHA }, cookie);
  }
  /** A stranger (no known-device cookie) tries `times` wrong passwords; the answers' statuses. */
  async function strangerGuesses(phone: string, times: number): Promise<LightMyRequestResponse[]> {
    const answers = [];
    for (let i = 0; i < times; i++) answers.push(await login(phone, `${WRONG} ${i}`));
    return answers;
  }
  /** An account registered in the owner's browser: its phone, session cookie and known-device cookie. */
  async function ownerAccount() {
    const phone = uniquePhone();
    const registered = await register(t, { phone });
    assert.equal(registered.statusCode, 201, registered.body);
    return { phone, session: sessionCookie(registered), device: deviceCookie(registered), id: registered.json().user.id as number };
  }

  it("a stranger's wrong passwords lock strangers out; the owner's known device still signs in, which lifts the lock; the stranger's next lock lasts twice as long", async () => {
    const owner = await ownerAccount();
    const stranger = await strangerGuesses(owner.phone, 6);
    assert.deepEqual(stranger.map((r) => r.statusCode), [401, 401, 401, 401, 423, 423]);
    assert.equal(stranger[4]!.headers['retry-after'], '900');
    assert.equal((await login(owner.phone, PASSWORD)).statusCode, 423, 'the right password from an unknown client waits like any stranger');

    const signedIn = await login(owner.phone, PASSWORD, owner.device);
    assert.equal(signedIn.statusCode, 200, signedIn.body);
    deviceCookie(signedIn); // renewed at each sign-in
    const next = await strangerGuesses(owner.phone, 5);
    assert.deepEqual(next.map((r) => r.statusCode), [401, 401, 401, 401, 423], 'the lock was lifted');
    assert.equal(next[0]!.json().error.attempts_left, 4);
    assert.equal(next[4]!.headers['retry-after'], '1800', 'a repeated lock doubles');
  });

  it("the owner's known device counts its own wrong passwords: attempts left while strangers are locked out, then a short wait, not a lock", async () => {
    const owner = await ownerAccount();
    await strangerGuesses(owner.phone, 5);
    const own = [];
    for (let i = 0; i < 6; i++) own.push(await login(owner.phone, `${WRONG} ${i}`, owner.device));
    assert.deepEqual(own.map((r) => r.statusCode), [401, 401, 401, 401, 423, 423]);
    assert.deepEqual(own.slice(0, 4).map((r) => r.json().error.attempts_left), [4, 3, 2, 1]);
    assert.equal(own[4]!.headers['retry-after'], '30', 'LOCKOUT_KNOWN_DEVICE_SECONDS');
    assert.ok(Number(own[5]!.headers['retry-after']) <= 30);
    // The strangers' lock is still the one they made: the device's failures are not theirs.
    assert.ok(Number((await login(owner.phone, WRONG)).headers['retry-after']) > 800);
  });

  it("a signed-in owner's current password is checked on the device's own count, so strangers' lock does not stop a password change", async () => {
    const owner = await ownerAccount();
    await strangerGuesses(owner.phone, 5);
    const changed = await post('/api/auth/password', { current_password: PASSWORD, new_password: 'a brand new passphrase' }, `${owner.session}; ${owner.device}`);
    assert.equal(changed.statusCode, 204, changed.body);
  });

  it('a known-device cookie is bound to its account and to the secret key: another account, a tampered or a made-up one is a stranger', async () => {
    const owner = await ownerAccount();
    const other = await ownerAccount();
    await strangerGuesses(owner.phone, 5);
    const value = owner.device.slice(DEVICE.length + 1);
    const tampered = `${DEVICE}=${value.slice(0, -1)}${value.endsWith('0') ? '1' : '0'}`;
    for (const cookie of [other.device, tampered, `${DEVICE}=AAAAAAAAAAAAAAAAAAAAAA.0.${'0'.repeat(32)}`, `${DEVICE}=${'x'.repeat(2000)}`]) {
      assert.equal((await login(owner.phone, PASSWORD, cookie)).statusCode, 423, cookie.slice(0, 60));
    }
    // One browser, two accounts (a shared computer): signing in to the second keeps the first one's entry.
    const both = await login(other.phone, PASSWORD, owner.device);
    assert.equal(both.statusCode, 200);
    assert.equal((await login(owner.phone, PASSWORD, deviceCookie(both))).statusCode, 200);
  });

  describe('with two-factor sign-in on', () => {
    async function withTwoFactor() {
      const owner = await ownerAccount();
      const setup = await post('/api/auth/2fa/setup', { current_password: PASSWORD }, owner.session);
      const secret = setup.json().secret as string;
      const enabled = await post('/api/auth/2fa/enable', { code: appCode(secret, -1) }, owner.session);
      assert.equal(enabled.statusCode, 200, enabled.body);
      return { ...owner, secret, recovery: enabled.json().recovery_codes as string[] };
    }

    it('an SMS code and the second factor sign the owner in on a new device while strangers have locked the account, and lift the lock', async () => {
      const owner = await withTwoFactor();
      await strangerGuesses(owner.phone, 5);
      const first = await post('/api/auth/login/sms', { phone: owner.phone, code: await smsCode(t, owner.phone, 'login') });
      assert.equal(first.json().error.code, 'TWO_FACTOR_REQUIRED');
      const second = await post('/api/auth/login/2fa', { challenge: first.json().error.challenge, code: appCode(owner.secret) });
      assert.equal(second.statusCode, 200, second.body);
      deviceCookie(second);
      assert.equal((await login(owner.phone, WRONG)).json().error.attempts_left, 4, 'the lock is lifted');
    });

    it("a challenge proved by an SMS code has its own N tries at the second factor, whatever strangers did", async () => {
      const owner = await withTwoFactor();
      await strangerGuesses(owner.phone, 5);
      const first = await post('/api/auth/login/sms', { phone: owner.phone, code: await smsCode(t, owner.phone, 'login') });
      const challenge = first.json().error.challenge as string;
      const wrong = appCode(owner.secret) === '000000' ? '999999' : '000000';
      const answers = [];
      for (let i = 0; i < 6; i++) answers.push(await post('/api/auth/login/2fa', { challenge, code: wrong }));
      assert.deepEqual(answers.map((r) => r.statusCode), [401, 401, 401, 401, 423, 423]);
      assert.deepEqual(answers.slice(0, 4).map((r) => r.json().error.attempts_left), [4, 3, 2, 1]);
      assert.equal((await post('/api/auth/login/2fa', { challenge, code: appCode(owner.secret) })).statusCode, 423, 'not even the right code on a locked challenge');
    });

    // Across worker processes: test/limits.test.ts.
    it('wrong codes to turn two-factor off are counted per account, limited with 429 and Retry-After, and audited', async () => {
      const owner = await withTwoFactor();
      const wrong = appCode(owner.secret) === '000000' ? '999999' : '000000';
      const answers = [];
      for (let i = 0; i < 6; i++) answers.push(await post('/api/auth/2fa/disable', { current_password: PASSWORD, code: wrong }, owner.session));
      assert.deepEqual(answers.map((r) => r.statusCode), [400, 400, 400, 400, 429, 429]);
      assert.deepEqual(answers.slice(0, 4).map((r) => [r.json().error.code, r.json().error.attempts_left]), [['INVALID_TWO_FACTOR_CODE', 4], ['INVALID_TWO_FACTOR_CODE', 3], ['INVALID_TWO_FACTOR_CODE', 2], ['INVALID_TWO_FACTOR_CODE', 1]]);
      for (const limited of answers.slice(4)) {
        assert.deepEqual([limited.json().error.code, limited.json().error.limit, limited.json().error.scope], ['RATE_LIMITED', 'two_factor_disable', 'account']);
        assert.ok(Number(limited.headers['retry-after']) > 3500, String(limited.headers['retry-after']));
      }
      const right = await post('/api/auth/2fa/disable', { current_password: PASSWORD, code: owner.recovery[0]! }, owner.session);
      assert.equal(right.statusCode, 429, 'not even a right code while limited');
      const me = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: owner.session } });
      assert.equal(me.json().user.two_factor_enabled, true);

      const rows = await t.database.db.selectFrom('audit_events').select(['event', 'detail', 'ip']).where('target', '=', `user:${owner.id}`).where('event', '=', 'two_factor.disable_failed').orderBy('id').execute();
      assert.deepEqual(rows.map((r) => JSON.parse(r.detail ?? '{}').attempts_left), [4, 3, 2, 1, 0]);

      // Another account's budget is its own.
      const other = await withTwoFactor();
      assert.equal((await post('/api/auth/2fa/disable', { current_password: PASSWORD, code: other.recovery[0]! }, other.session)).statusCode, 204);
    });
  });
});
