import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, login, newCaptcha, register, sessionCookie, TEST_CAPTCHA, uniquePhone, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { unmet } from '../helpers/requirements.js';

// The same suite on each durable store: the contract every dialect of db/ must keep.
for (const dialect of ['sqlite', 'postgres'] as const) describe(`registration, login and sessions (in process, ${dialect})`, { skip: dialect === 'postgres' ? await unmet('postgres') : false }, () => {
  let t: TestApp;
  let database: TestDatabase | undefined;
  before(async () => {
    database = dialect === 'postgres' ? await createTestDatabase('auth') : undefined;
    t = await createTestApp(database ? { DATABASE_URL: database.url } : {});
  });
  after(async () => {
    await t.close();
    await database?.drop();
  });

  it('registers into the invitation code\'s organization, sets an HttpOnly session cookie and stores E.164', async () => {
    const res = await register(t, { phone: '138 0013 8000' });
    assert.equal(res.statusCode, 201, res.body);
    const { user } = res.json();
    assert.equal(user.phone, '+8613800138000');
    assert.equal(user.role, 'user');
    assert.equal(user.organization_id, 1);
    const cookie = res.cookies.find((c) => c.name === 'gatehouse_session')!;
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Lax');
    assert.ok(cookie.value.length >= 43, 'token has at least 256 bits');
    const stored = await t.database.db.selectFrom('sessions').select('token_hash').execute();
    assert.ok(stored.length > 0);
    assert.ok(stored.every((s) => s.token_hash !== cookie.value), 'only the hash is stored');
    const passwordHash = (await t.database.db.selectFrom('users').select('password_hash').where('id', '=', user.id).executeTakeFirstOrThrow()).password_hash!;
    assert.match(passwordHash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('refuses a taken phone with 409 PHONE_TAKEN, whatever way it is written', async () => {
    const first = await register(t, { phone: '13900001111' });
    assert.equal(first.statusCode, 201);
    const again = await register(t, { phone: '+86 139-0000-1111' });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error.code, 'PHONE_TAKEN');
  });

  it('refuses weak passwords, invalid phones, unknown invitation codes, and a wrong captcha', async () => {
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ password: 'short' }, 400, 'WEAK_PASSWORD'],
      [{ password: 'password123' }, 400, 'WEAK_PASSWORD'],
      [{ password: 'x'.repeat(129) }, 400, 'WEAK_PASSWORD'],
      [{ phone: '12345' }, 400, 'INVALID_PHONE'],
      [{ phone: '+1 202 555 01' }, 400, 'INVALID_PHONE'],
      [{ invitation_code: 'NOPE2345' }, 400, 'INVALID_INVITATION_CODE'],
      [{ captcha: 'WRONG' }, 400, 'CAPTCHA_INVALID'],
      [{ name: '   ' }, 400, 'INVALID_NAME'],
      [{ name: 'a\u0000b' }, 400, 'INVALID_NAME'],
      [{ name: 'bad\u202Eeman' }, 400, 'INVALID_NAME'],
    ];
    for (const [fields, status, code] of cases) {
      const res = await register(t, fields);
      assert.equal(res.statusCode, status, `${JSON.stringify(fields)} → ${res.body}`);
      assert.equal(res.json().error.code, code, JSON.stringify(fields));
    }
  });

  it('the password must not contain the phone number', async () => {
    const phone = uniquePhone();
    const res = await register(t, { phone, password: `my${phone}` });
    assert.equal(res.json().error.code, 'WEAK_PASSWORD');
    assert.equal(res.json().error.reason, 'contains_phone');
  });

  it('logs in with phone + password; wrong password and unknown phone give the same 401', async () => {
    const phone = uniquePhone();
    assert.equal((await register(t, { phone, password: 'a good long passphrase' })).statusCode, 201);
    const ok = await login(t, phone, 'a good long passphrase');
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().user.phone, `+86${phone}`);

    const wrong = await login(t, phone, 'not the passphrase');
    const unknown = await login(t, uniquePhone(), 'not the passphrase');
    const malformed = await login(t, 'not a phone', 'not the passphrase');
    for (const res of [wrong, unknown, malformed]) {
      assert.equal(res.statusCode, 401);
      assert.deepEqual(res.json().error, { code: 'INVALID_CREDENTIALS', message: 'The phone number or password is wrong.', attempts_left: 4 });
    }
  });

  it('a login captcha cannot be used to register (captchas are bound to their purpose)', async () => {
    const captcha_id = await newCaptcha(t.app, 'login');
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { phone: uniquePhone(), password: 'correct horse battery', name: 'N', invitation_code: t.invitationCode, captcha_id, captcha: TEST_CAPTCHA },
    });
    assert.equal(res.json().error.code, 'CAPTCHA_INVALID');
  });

  it('me, sessions list, revoke and logout', async () => {
    const phone = uniquePhone();
    const reg = await register(t, { phone, password: 'a good long passphrase' });
    const cookieA = sessionCookie(reg);
    const cookieB = sessionCookie(await login(t, phone, 'a good long passphrase'));

    const me = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: cookieA } });
    assert.equal(me.statusCode, 200);
    assert.equal(me.json().user.phone, `+86${phone}`);

    const list = await t.app.inject({ method: 'GET', url: '/api/auth/sessions', headers: { cookie: cookieA } });
    const sessions = list.json().sessions as Array<{ id: number; current: boolean }>;
    assert.equal(sessions.length, 2);
    assert.equal(sessions.filter((s) => s.current).length, 1);
    const other = sessions.find((s) => !s.current)!;

    const revoke = await t.app.inject({ method: 'DELETE', url: `/api/auth/sessions/${other.id}`, headers: { cookie: cookieA } });
    assert.equal(revoke.statusCode, 204);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: cookieB } })).statusCode, 401);
    const again = await t.app.inject({ method: 'DELETE', url: `/api/auth/sessions/${other.id}`, headers: { cookie: cookieA } });
    assert.equal(again.json().error.code, 'SESSION_NOT_FOUND');

    const logout = await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie: cookieA } });
    assert.equal(logout.statusCode, 204);
    const after = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: cookieA } });
    assert.equal(after.statusCode, 401);
    assert.equal(after.json().error.code, 'UNAUTHENTICATED');
  });

  it('signs out every other device at once, and only that user\'s', async () => {
    const phone = uniquePhone();
    const current = sessionCookie(await register(t, { phone, password: 'a good long passphrase' }));
    const others = [sessionCookie(await login(t, phone, 'a good long passphrase')), sessionCookie(await login(t, phone, 'a good long passphrase'))];
    const stranger = sessionCookie(await register(t));
    const me = (cookie: string) => t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } });

    const res = await t.app.inject({ method: 'DELETE', url: '/api/auth/sessions', headers: { cookie: current } });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { revoked: 2 });
    assert.equal((await me(current)).statusCode, 200, 'this device stays signed in');
    for (const cookie of others) assert.equal((await me(cookie)).statusCode, 401);
    assert.equal((await me(stranger)).statusCode, 200, "another user's sessions are untouched");
    assert.deepEqual((await t.app.inject({ method: 'DELETE', url: '/api/auth/sessions', headers: { cookie: current } })).json(), { revoked: 0 });
    assert.equal((await t.app.inject({ method: 'DELETE', url: '/api/auth/sessions' })).statusCode, 401);
  });

  it('one user cannot revoke another user\'s session', async () => {
    const a = await register(t);
    const b = await register(t);
    const bSessions = (await t.app.inject({ method: 'GET', url: '/api/auth/sessions', headers: { cookie: sessionCookie(b) } })).json().sessions;
    const res = await t.app.inject({ method: 'DELETE', url: `/api/auth/sessions/${bSessions[0].id}`, headers: { cookie: sessionCookie(a) } });
    assert.equal(res.statusCode, 404);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: sessionCookie(b) } })).statusCode, 200);
  });

  it('rejects forged and malformed session cookies with 401', async () => {
    for (const value of ['x', 'A'.repeat(43), '../../etc', '']) {
      const res = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: `gatehouse_session=${value}` } });
      assert.equal(res.statusCode, 401, value);
    }
  });

  it('every response carries X-Request-Id, echoing a well-formed incoming one', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
    assert.equal(res.headers['x-request-id'], 'abc-123');
    const forged = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id\nwith newline' } });
    assert.match(String(forged.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });
});
