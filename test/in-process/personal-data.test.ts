// A signed-in person downloads what Gatehouse holds about them: account, organization, sessions,
// security events — theirs only, and no administrator named.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminSession, createTestApp, login, register, sessionCookie, uniquePhone, type TestApp } from '../helpers/app.js';

const PASSWORD = 'correct horse battery';

describe('personal data download', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('holds the account, its organization, live sessions and its security events; nobody else’s', async () => {
    const phone = uniquePhone();
    const registered = await register(t, { phone, password: PASSWORD, name: '李老师' });
    const id = registered.json().user.id as number;
    const cookie = sessionCookie(await login(t, phone, PASSWORD));
    const admin = await adminSession(t);
    assert.equal((await t.app.inject({ method: 'PATCH', url: `/api/admin/users/${id}`, headers: { cookie: admin.cookie }, payload: { name: '李 老师' } })).statusCode, 200);
    const someoneElse = uniquePhone();
    await register(t, { phone: someoneElse });

    const res = await t.app.inject({ method: 'GET', url: '/api/auth/account/data', headers: { cookie } });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-disposition']), new RegExp(`^attachment; filename="gatehouse-account-${id}\\.json"$`));
    assert.equal(res.headers['cache-control'], 'no-store');
    const data = res.json();
    assert.deepEqual(
      { ...data.account, registered_at: typeof data.account.registered_at },
      { id, name: '李 老师', phone: `+86${phone}`, role: 'user', status: 'active', registered_at: 'string', invitation_code: t.invitationCode, password_set: true, two_factor_enabled: false },
    );
    assert.equal(data.organization.id, registered.json().user.organization_id);
    assert.equal(data.sessions.length, 2, 'the registration’s session and the login’s');
    const events = data.security_events.map((e: { event: string; by: string }) => `${e.event}/${e.by}`);
    assert.ok(events.includes('register/you') && events.includes('login.ok/you'), events.join());
    assert.ok(events.includes('admin.user_changed/administrator'), events.join());
    assert.ok(!res.body.includes('user:'), 'no actor is named, the administrator included');
    assert.ok(!res.body.includes(someoneElse), 'nothing about another account');

    assert.equal((await t.app.inject({ method: 'GET', url: '/api/auth/account/data' })).statusCode, 401, 'only for the signed-in owner');
  });
});
