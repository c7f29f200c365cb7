// Administrator sessions: each session records how its holder proved who they are, and when; the
// console needs a session that passed a second factor (ADMIN_REQUIRE_TWO_FACTOR, on by default);
// sensitive actions need a recent proof (POST /api/auth/reauth renews it); API keys expire and die
// with their creator's administrator role.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { ApiKeyService } from '../../src/apikeys/service.js';
import { AuditLog } from '../../src/audit/service.js';
import { loadConfig } from '../../src/config.js';
import { OPERATOR } from '../../src/principal.js';
import {
  adminSession,
  authenticatorCode,
  createApiKey,
  login,
  register,
  sessionCookie,
  smsCode,
  TEST_PASSWORD,
  testAppWithTasks,
  uniquePhone,
  type TestApp,
} from '../helpers/app.js';

const errorCode = (res: LightMyRequestResponse) => res.json().error?.code as string | undefined;
const DAY_MS = 86_400_000;

describe('admin sessions', () => {
  let t: TestApp;
  testAppWithTasks({}, (app) => {
    t = app;
  });

  const post = (url: string, cookie: string, payload: object = {}) => t.app.inject({ method: 'POST', url, headers: { cookie }, payload });
  const adminGet = (cookie: string) => t.app.inject({ method: 'GET', url: '/api/admin/organizations', headers: { cookie } });
  /** The session row a cookie names (the newest of its account: tests make one per sign-in). */
  async function sessionOf(userId: number) {
    return t.database.db.selectFrom('sessions').selectAll().where('user_id', '=', userId).orderBy('id', 'desc').executeTakeFirstOrThrow();
  }
  /** As if the session's holder last proved anything `minutes` ago. */
  async function age(userId: number, minutes: number) {
    const at = Date.now() - minutes * 60_000;
    await t.database.db
      .updateTable('sessions')
      .set((eb) => ({ password_at: eb.case().when('password_at', 'is not', null).then(at).else(null).end(), sms_at: eb.case().when('sms_at', 'is not', null).then(at).else(null).end(), second_factor_at: eb.case().when('second_factor_at', 'is not', null).then(at).else(null).end() }))
      .where('user_id', '=', userId)
      .execute();
  }

  it('records on each session which factors signed it in, and when', async () => {
    const before = Date.now();
    const phone = uniquePhone();
    const registered = await register(t, { phone });
    const id = registered.json().user.id as number;
    const byRegistration = await sessionOf(id);
    assert.ok(byRegistration.password_at! >= before);
    assert.equal(byRegistration.sms_at, null);
    assert.equal(byRegistration.second_factor_at, null);

    assert.equal((await login(t, phone, TEST_PASSWORD)).statusCode, 200);
    const byPassword = await sessionOf(id);
    assert.notEqual(byPassword.id, byRegistration.id);
    assert.ok(byPassword.password_at! >= before);
    assert.equal(byPassword.sms_at, null);

    // A phone some code proved already: its first SMS sign-in is an ordinary one (an unproven one's ends
    // every session and clears the password, which test/in-process/sms-abuse.test.ts covers).
    await t.database.db.updateTable('users').set({ phone_verified_at: Date.now() }).where('id', '=', id).execute();
    const bySms = await t.app.inject({ method: 'POST', url: '/api/auth/login/sms', payload: { phone, code: await smsCode(t, phone, 'login') } });
    assert.equal(bySms.statusCode, 200, bySms.body);
    const smsSession = await sessionOf(id);
    assert.ok(smsSession.sms_at! >= before);
    assert.equal(smsSession.password_at, null, 'an SMS code is not the password');
    assert.equal(smsSession.second_factor_at, null);

    // With two-factor sign-in on: the password first, then the code, both recorded.
    const cookie = sessionCookie(registered);
    const secret = (await post('/api/auth/2fa/setup', cookie, { current_password: TEST_PASSWORD })).json().secret as string;
    assert.equal((await post('/api/auth/2fa/enable', cookie, { code: authenticatorCode(secret, -1) })).statusCode, 200);
    const challenge = (await login(t, phone, TEST_PASSWORD)).json().error.challenge as string;
    const done = await t.app.inject({ method: 'POST', url: '/api/auth/login/2fa', payload: { challenge, code: authenticatorCode(secret) } });
    assert.equal(done.statusCode, 200, done.body);
    const twoFactorSession = await sessionOf(id);
    assert.ok(twoFactorSession.password_at! >= before && twoFactorSession.second_factor_at! >= twoFactorSession.password_at!);
    assert.equal(twoFactorSession.sms_at, null);
  });

  it('keeps an administrator out of the console until a second factor, by default; walks the first one through turning it on; API keys are not affected', async () => {
    assert.equal(loadConfig({ DATA_DIR: t.dataDir }, {}).adminRequiresTwoFactor, true, 'on unless turned off');
    const admin = await adminSession(t, { twoFactor: false });
    const refused = await adminGet(admin.cookie);
    assert.equal(refused.statusCode, 403);
    assert.equal(errorCode(refused), 'TWO_FACTOR_SETUP_REQUIRED');

    // The account page's setup, in the same session: the first code is the session's second factor.
    const secret = (await post('/api/auth/2fa/setup', admin.cookie, { current_password: TEST_PASSWORD })).json().secret as string;
    assert.equal((await post('/api/auth/2fa/enable', admin.cookie, { code: authenticatorCode(secret) })).statusCode, 200);
    assert.equal((await adminGet(admin.cookie)).statusCode, 200, 'back to the console without signing in again');

    // A session of the same account that did not pass the code (signed in before it was turned on).
    const older = await adminSession(t, { twoFactor: false });
    const otherDevice = sessionCookie(await login(t, older.phone, TEST_PASSWORD));
    const olderSecret = (await post('/api/auth/2fa/setup', older.cookie, { current_password: TEST_PASSWORD })).json().secret as string;
    assert.equal((await post('/api/auth/2fa/enable', older.cookie, { code: authenticatorCode(olderSecret) })).statusCode, 200);
    const noSecondFactor = await adminGet(otherDevice);
    assert.equal(noSecondFactor.statusCode, 401);
    assert.equal(errorCode(noSecondFactor), 'SECOND_FACTOR_REQUIRED');
    assert.equal(errorCode(await post('/api/auth/reauth', otherDevice, { password: TEST_PASSWORD })), undefined, 'the password renews the session');
    assert.equal(errorCode(await adminGet(otherDevice)), 'SECOND_FACTOR_REQUIRED', 'but is not a second factor');
    assert.equal((await post('/api/auth/reauth', otherDevice, { code: authenticatorCode(olderSecret, 1) })).json().factor, 'second_factor');
    assert.equal((await adminGet(otherDevice)).statusCode, 200);

    const { key } = await new ApiKeyService(t.database, { audit: new AuditLog(t.database), defaultTtlDays: 90 }).create(OPERATOR, { name: 'script', scopes: ['admin'] });
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/admin/organizations', headers: { authorization: `Bearer ${key}` } })).statusCode, 200);
  });

  it('asks for a recent re-authentication before an API key, a role, or a two-factor reset; the password or a code renews it', async () => {
    const admin = await adminSession(t);
    const target = (await register(t)).json().user.id as number;
    await age(admin.userId, 6);

    const keyRefused = await post('/api/admin/api-keys', admin.cookie, { name: 'sync', scopes: ['tasks:read'] });
    assert.equal(keyRefused.statusCode, 401);
    assert.equal(errorCode(keyRefused), 'REAUTHENTICATION_REQUIRED');
    assert.equal(keyRefused.json().error.max_age_seconds, 300);
    const role = () => t.app.inject({ method: 'PATCH', url: `/api/admin/users/${target}`, headers: { cookie: admin.cookie }, payload: { role: 'admin' } });
    assert.equal(errorCode(await role()), 'REAUTHENTICATION_REQUIRED');
    const rename = await t.app.inject({ method: 'PATCH', url: `/api/admin/users/${target}`, headers: { cookie: admin.cookie }, payload: { name: '王老师' } });
    assert.equal(rename.statusCode, 200, 'a name is not sensitive');
    assert.equal(errorCode(await post(`/api/admin/users/${target}/reset-two-factor`, admin.cookie)), 'REAUTHENTICATION_REQUIRED');
    assert.equal((await adminGet(admin.cookie)).statusCode, 200, 'the console itself still opens');

    const wrong = await post('/api/auth/reauth', admin.cookie, { password: 'not the password' });
    assert.equal(wrong.statusCode, 401);
    assert.equal(errorCode(wrong), 'INVALID_CREDENTIALS');
    assert.equal(wrong.json().error.field, 'body.password');
    assert.equal(typeof wrong.json().error.attempts_left, 'number', 'wrong answers count towards the lockout');
    assert.equal(errorCode(await post('/api/auth/reauth', admin.cookie, { password: TEST_PASSWORD, code: '123456' })), 'VALIDATION_FAILED', 'one of the two');
    assert.equal(errorCode(await post('/api/admin/api-keys', admin.cookie, { name: 'sync', scopes: ['tasks:read'] })), 'REAUTHENTICATION_REQUIRED', 'a wrong answer renews nothing');

    const renewed = await post('/api/auth/reauth', admin.cookie, { password: TEST_PASSWORD });
    assert.equal(renewed.statusCode, 200, renewed.body);
    assert.equal(renewed.json().factor, 'password');
    assert.equal((await post('/api/admin/api-keys', admin.cookie, { name: 'sync', scopes: ['tasks:read'] })).statusCode, 201);
    assert.equal((await role()).json().user.role, 'admin');

    await age(admin.userId, 6);
    assert.equal((await post('/api/auth/reauth', admin.cookie, { code: authenticatorCode(admin.totpSecret!, 1) })).statusCode, 200, 'or a code from the app');
    assert.equal(errorCode(await post(`/api/admin/users/${target}/reset-two-factor`, admin.cookie)), 'TWO_FACTOR_NOT_ENABLED', 'past the re-authentication, to the action itself');

    const events = (await t.app.inject({ method: 'GET', url: `/api/admin/audit?event=session.*&target=user:${admin.userId}`, headers: { cookie: admin.cookie } })).json().events;
    assert.deepEqual(events.map((e: { event: string; detail: { factor: string } }) => `${e.event} ${e.detail.factor}`).reverse(), ['session.reauthentication_failed password', 'session.reauthenticated password', 'session.reauthenticated second_factor']);
  });

  it("turning off one's own two-factor sign-in needs a recent re-authentication too", async () => {
    const owner = await adminSession(t);
    await age(owner.userId, 6);
    const payload = { current_password: TEST_PASSWORD, code: authenticatorCode(owner.totpSecret!, 1) };
    assert.equal(errorCode(await post('/api/auth/2fa/disable', owner.cookie, payload)), 'REAUTHENTICATION_REQUIRED');
    assert.equal((await post('/api/auth/reauth', owner.cookie, { password: TEST_PASSWORD })).statusCode, 200);
    assert.equal((await post('/api/auth/2fa/disable', owner.cookie, payload)).statusCode, 204);
  });

  it('API keys expire (90 days unless chosen), and are refused after', async () => {
    const admin = await adminSession(t);
    const byDefault = await post('/api/admin/api-keys', admin.cookie, { name: 'default', scopes: ['tasks:read'] });
    const expiresAt = Date.parse(byDefault.json().api_key.expires_at);
    assert.ok(Math.abs(expiresAt - (Date.now() + 90 * DAY_MS)) < 60_000, byDefault.json().api_key.expires_at);
    const chosen = await post('/api/admin/api-keys', admin.cookie, { name: 'short', scopes: ['tasks:read'], expires_in_days: 7 });
    assert.ok(Math.abs(Date.parse(chosen.json().api_key.expires_at) - (Date.now() + 7 * DAY_MS)) < 60_000);
    assert.equal(errorCode(await post('/api/admin/api-keys', admin.cookie, { name: 'never', scopes: ['tasks:read'], expires_in_days: 0 })), 'VALIDATION_FAILED');

    const { key, id } = await createApiKey(t, admin.cookie, ['admin']);
    const use = () => t.app.inject({ method: 'GET', url: '/api/admin/api-keys', headers: { authorization: `Bearer ${key}` } });
    assert.equal((await use()).statusCode, 200);
    await t.database.db.updateTable('api_keys').set({ expires_at: Date.now() - 1 }).where('id', '=', id).execute();
    assert.equal(errorCode(await use()), 'INVALID_API_KEY');
  });

  it("revokes an administrator's keys when they are demoted, disabled or deleted — and keys their keys made", async () => {
    const root = await adminSession(t);
    const keysOf = async (userId: number) => (await t.database.db.selectFrom('api_keys').selectAll().where('created_by', '=', userId).execute()).map((k) => ({ prefix: k.prefix, revoked: k.revoked_at !== null }));
    const use = (key: string) => t.app.inject({ method: 'GET', url: '/api/admin/api-keys', headers: { authorization: `Bearer ${key}` } });

    for (const ending of ['demote', 'disable', 'delete'] as const) {
      const other = await adminSession(t);
      const own = await createApiKey(t, other.cookie, ['admin'], `${ending} own`);
      // A key made with that key belongs to the same person.
      const made = await t.app.inject({ method: 'POST', url: '/api/admin/api-keys', headers: { authorization: `Bearer ${own.key}` }, payload: { name: `${ending} child`, scopes: ['tasks:read'] } });
      assert.equal(made.statusCode, 201, made.body);
      assert.equal(made.json().api_key.created_by, other.userId);
      const child = made.json().key as string;
      const bystander = await createApiKey(t, root.cookie, ['tasks:read'], `${ending} bystander`);

      const res =
        ending === 'demote'
          ? await t.app.inject({ method: 'PATCH', url: `/api/admin/users/${other.userId}`, headers: { cookie: root.cookie }, payload: { role: 'user' } })
          : ending === 'disable'
            ? await post(`/api/admin/users/${other.userId}/disable`, root.cookie)
            : await t.app.inject({ method: 'DELETE', url: `/api/admin/users/${other.userId}`, headers: { cookie: root.cookie } });
      assert.ok(res.statusCode < 300, `${ending}: ${res.body}`);
      assert.equal(errorCode(await use(own.key)), 'INVALID_API_KEY', ending);
      assert.equal(errorCode(await use(child)), 'INVALID_API_KEY', `${ending}: the child key`);
      assert.equal(errorCode(await use(bystander.key)), 'FORBIDDEN', `${ending}: another administrator's key lives on (and lacks the admin scope)`);
      const audit = (await t.app.inject({ method: 'GET', url: `/api/admin/audit?event=apikey.revoked&target=apikey:${own.prefix}`, headers: { cookie: root.cookie } })).json().events;
      assert.equal(audit[0]?.detail.reason, `creator_${ending === 'demote' ? 'demoted' : ending === 'disable' ? 'disabled' : 'deleted'}`);
      if (ending !== 'delete') assert.ok((await keysOf(other.userId)).every((k) => k.revoked));
    }
    assert.ok((await keysOf(root.userId)).every((k) => !k.revoked), "the acting administrator's keys are untouched");
  });

  it('records a key’s last use at most once a minute, not on every request', async () => {
    let now = Date.now();
    const keys = new ApiKeyService(t.database, { audit: new AuditLog(t.database), defaultTtlDays: 90, now: () => now });
    const { key, apiKey } = await keys.create(OPERATOR, { name: 'clock', scopes: ['tasks:read'] });
    const lastUsed = async () => (await t.database.db.selectFrom('api_keys').select('last_used_at').where('id', '=', apiKey.id).executeTakeFirstOrThrow()).last_used_at;
    assert.equal(await lastUsed(), null);
    const first = now;
    assert.ok(await keys.authenticate(key));
    assert.equal(await lastUsed(), first);
    now += 30_000;
    assert.ok(await keys.authenticate(key));
    assert.equal(await lastUsed(), first, 'within the minute: not written');
    now += 31_000;
    assert.ok(await keys.authenticate(key));
    assert.equal(await lastUsed(), now);
    const admin = await adminSession(t);
    const listed = (await t.app.inject({ method: 'GET', url: '/api/admin/api-keys', headers: { cookie: admin.cookie } })).json().api_keys.find((k: { id: number }) => k.id === apiKey.id);
    assert.equal(listed.last_used_at, new Date(now).toISOString());
  });
});
