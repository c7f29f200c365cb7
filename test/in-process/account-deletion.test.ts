// Deleting an account: by its owner (with the current password) or by an administrator. The row and
// its sessions go, the phone number can register again, the audit log keeps a masked record.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SessionService } from '../../src/sessions/service.js';
import { adminSession, createTestApp, login, register, sessionCookie, uniquePhone, type TestApp } from '../helpers/app.js';

const PASSWORD = 'correct horse battery';

describe('account deletion', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ LOCKOUT_MAX_FAILURES: '3' });
  });
  after(() => t.close());

  async function account() {
    const phone = uniquePhone();
    const res = await register(t, { phone, password: PASSWORD });
    assert.equal(res.statusCode, 201, res.body);
    return { phone, id: res.json().user.id as number, cookie: sessionCookie(res) };
  }
  const me = (cookie: string) => t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } });
  const deleteOwn = (cookie: string, payload?: object) =>
    t.app.inject({ method: 'DELETE', url: '/api/auth/account', headers: { cookie }, ...(payload ? { payload } : {}) });
  const auditOf = (event: string, target: string) =>
    t.database.db.selectFrom('audit_events').selectAll().where('event', '=', event).where('target', '=', target).execute();

  it('the owner deletes it with the current password: every device is signed out, the phone can register again', async () => {
    const { phone, id, cookie } = await account();
    const otherDevice = sessionCookie(await login(t, phone, PASSWORD));

    const deleted = await deleteOwn(cookie, { current_password: PASSWORD });
    assert.equal(deleted.statusCode, 204, deleted.body);
    assert.match(String(deleted.headers['set-cookie']), /gatehouse_session=;/, 'the cookie is cleared');
    assert.equal((await me(otherDevice)).statusCode, 401, 'the other device is signed out at its next request');
    assert.equal(await t.database.db.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst(), undefined);
    assert.equal(await t.database.db.selectFrom('sessions').select('id').where('user_id', '=', id).executeTakeFirst(), undefined);

    const oldPassword = await login(t, phone, PASSWORD);
    assert.equal(oldPassword.statusCode, 401);
    assert.equal(oldPassword.json().error.code, 'INVALID_CREDENTIALS');
    const again = await register(t, { phone, password: PASSWORD });
    assert.equal(again.statusCode, 201, 'the phone number is free again');
    assert.notEqual(again.json().user.id, id);

    const [event] = await auditOf('account.deleted', `user:${id}`);
    assert.ok(event, 'the deletion is in the audit log');
    const detail = JSON.parse(String(event.detail));
    assert.equal(detail.phone.includes(phone.slice(3, 7)), false, 'the phone number is masked');
    assert.equal(detail.role, 'user');
  });

  it('a wrong or missing current password deletes nothing, and wrong ones count towards the lockout', async () => {
    const { phone, id, cookie } = await account();
    const missing = await deleteOwn(cookie, {});
    assert.equal(missing.statusCode, 401);
    assert.equal(missing.json().error.field, 'body.current_password');
    const wrong = await deleteOwn(cookie, { current_password: 'not the password' });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json().error.code, 'INVALID_CREDENTIALS');
    assert.equal(wrong.json().error.attempts_left, 1);
    const locked = await deleteOwn(cookie, { current_password: 'still not it' });
    assert.equal(locked.statusCode, 423, 'the third wrong password locks the account');
    const evenRight = await deleteOwn(cookie, { current_password: PASSWORD });
    assert.equal(evenRight.statusCode, 423, 'a locked account is not checked at all');
    const changePassword = await t.app.inject({ method: 'POST', url: '/api/auth/password', headers: { cookie }, payload: { current_password: PASSWORD, new_password: 'a new passphrase' } });
    assert.equal(changePassword.statusCode, 423, 'changing the password shares the count');
    assert.ok(await t.database.db.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst(), 'the account is still there');
    assert.equal((await login(t, phone, PASSWORD)).statusCode, 423);
  });

  it('an account without a password (imported, or reset by an admin) is deleted by its signed-in owner without one', async () => {
    const { id, cookie } = await account();
    await t.database.db.updateTable('users').set({ password_hash: null }).where('id', '=', id).execute();
    const noBody = await deleteOwn(cookie);
    assert.equal(noBody.statusCode, 400, 'the body is a JSON object, if an empty one');
    assert.equal(noBody.json().error.code, 'VALIDATION_FAILED');
    const deleted = await deleteOwn(cookie, {});
    assert.equal(deleted.statusCode, 204, deleted.body);
    assert.equal((await me(cookie)).statusCode, 401);
  });

  it("an administrator's own account is deleted only by another administrator", async () => {
    const admin = await adminSession(t);
    const refused = await deleteOwn(admin.cookie, { current_password: PASSWORD });
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().error.code, 'FORBIDDEN');
    const self = await t.app.inject({ method: 'DELETE', url: `/api/admin/users/${admin.userId}`, headers: { cookie: admin.cookie } });
    assert.equal(self.statusCode, 403);
    assert.equal((await me(admin.cookie)).statusCode, 200);

    const other = await adminSession(t);
    const byOther = await t.app.inject({ method: 'DELETE', url: `/api/admin/users/${admin.userId}`, headers: { cookie: other.cookie } });
    assert.equal(byOther.statusCode, 204, byOther.body);
    assert.equal((await me(admin.cookie)).statusCode, 401);
  });

  it('an administrator deletes a user: signed out, gone from the search, audited; a second time is 404; not for others', async () => {
    const admin = await adminSession(t);
    const teacher = await account();
    const asTeacher = await t.app.inject({ method: 'DELETE', url: `/api/admin/users/${admin.userId}`, headers: { cookie: teacher.cookie } });
    assert.equal(asTeacher.statusCode, 403, 'not for a user who is not an administrator');

    const deleted = await t.app.inject({ method: 'DELETE', url: `/api/admin/users/${teacher.id}`, headers: { cookie: admin.cookie } });
    assert.equal(deleted.statusCode, 204, deleted.body);
    assert.equal((await me(teacher.cookie)).statusCode, 401);
    const search = await t.app.inject({ method: 'GET', url: `/api/admin/users?q=${teacher.phone}`, headers: { cookie: admin.cookie } });
    assert.deepEqual(search.json().users, []);
    const [event] = await auditOf('admin.user_deleted', `user:${teacher.id}`);
    assert.equal(event?.actor, `user:${admin.userId}`);

    const again = await t.app.inject({ method: 'DELETE', url: `/api/admin/users/${teacher.id}`, headers: { cookie: admin.cookie } });
    assert.equal(again.statusCode, 404);
    const action = await t.app.inject({ method: 'POST', url: `/api/admin/users/${teacher.id}/disable`, headers: { cookie: admin.cookie } });
    assert.equal(action.statusCode, 404);
  });

  it('a session for an account deleted meanwhile is refused as a wrong password, not a server error', async () => {
    const { id } = await account();
    await t.database.db.deleteFrom('users').where('id', '=', id).execute();
    const sessions = new SessionService(t.database, { ttlSeconds: 60, maxAgeSeconds: 600 });
    await assert.rejects(sessions.create(id, { ip: '127.0.0.1', userAgent: null }, { password: Date.now() }), (error: { code?: string }) => error.code === 'INVALID_CREDENTIALS');
  });
});
