// The admin API behind the console: organizations and invitation codes, user search and actions,
// sessions, and the workshop's registrations per minute.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import QRCode from 'qrcode';
import { adminSession, createTestApp, login, register, sessionCookie, uniquePhone, type TestApp } from '../helpers/app.js';

describe('admin API', () => {
  let t: TestApp;
  let headers: { cookie: string };
  before(async () => {
    t = await createTestApp({ LOCKOUT_MAX_FAILURES: '2' });
    headers = { cookie: (await adminSession(t)).cookie };
  });
  after(() => t.close());

  it('creates organizations and invitation codes with quota and expiry; revokes and rotates them', async () => {
    const created = await t.app.inject({ method: 'POST', url: '/api/admin/organizations', headers, payload: { name: '实验中学', max_uses: 500, expires_in_days: 7 } });
    assert.equal(created.statusCode, 201);
    const orgId = created.json().organization.id;
    assert.equal(created.json().invitation.max_uses, 500);
    const another = await t.app.inject({ method: 'POST', url: `/api/admin/organizations/${orgId}/invitations`, headers, payload: { max_uses: 3 } });
    assert.equal(another.statusCode, 201);
    const code = another.json().invitation.invitation_code;
    const rotated = await t.app.inject({ method: 'POST', url: `/api/admin/invitations/${code}/rotate`, headers });
    assert.equal(rotated.statusCode, 200);
    assert.notEqual(rotated.json().invitation.invitation_code, code);
    assert.equal(rotated.json().invitation.max_uses, 3);
    const revoked = await t.app.inject({ method: 'POST', url: `/api/admin/invitations/${rotated.json().invitation.invitation_code}/revoke`, headers });
    assert.equal(revoked.json().invitation.revoked, true);
    const list = await t.app.inject({ method: 'GET', url: '/api/admin/organizations', headers });
    const org = list.json().organizations.find((o: { id: number }) => o.id === orgId);
    assert.equal(org.name, '实验中学');
    assert.equal(org.invitation_codes.length, 3);
    const missing = await t.app.inject({ method: 'POST', url: '/api/admin/organizations/9999/invitations', headers, payload: {} });
    assert.equal(missing.statusCode, 404);
  });

  it("changes a live code's quota and expiry in place: a used-up or expired code admits again under the same code; refuses bad limits, dead codes and non-admins", async () => {
    const created = (await t.app.inject({ method: 'POST', url: '/api/admin/organizations', headers, payload: { name: '加场中学', max_uses: 1, expires_in_days: 2 } })).json();
    const code: string = created.invitation.invitation_code;
    const limits = (body: unknown, extra: Record<string, string> = headers, target = code) => t.app.inject({ method: 'PATCH', url: `/api/admin/invitations/${target}`, headers: extra, payload: body as object });
    assert.equal((await register(t, { invitation_code: code })).statusCode, 201);
    assert.equal((await register(t, { invitation_code: code })).json().error.code, 'INVITATION_EXHAUSTED');

    const raised = await limits({ max_uses: 3 });
    assert.equal(raised.statusCode, 200, raised.body);
    assert.deepEqual({ ...raised.json().invitation, created_at: undefined }, { ...created.invitation, uses: 1, max_uses: 3, created_at: undefined }, 'the same code, its expiry kept');
    assert.equal((await register(t, { invitation_code: code })).statusCode, 201, 'admits at once');

    // The workshop runs late: the code expired; another week for it.
    await t.database.db.updateTable('invitation_codes').set({ expires_at: Date.now() - 1000 }).where('code', '=', code).execute();
    assert.equal((await register(t, { invitation_code: code })).json().error.code, 'INVITATION_EXPIRED');
    const extended = (await limits({ expires_in_days: 7 })).json().invitation;
    assert.ok(Math.abs(Date.parse(extended.expires_at) - (Date.now() + 7 * 86_400_000)) < 60_000, extended.expires_at);
    assert.equal((await register(t, { invitation_code: code })).statusCode, 201);
    const open = (await limits({ max_uses: null, expires_in_days: null })).json().invitation;
    assert.equal(open.max_uses, null);
    assert.equal(open.expires_at, null);
    assert.equal((await limits({ max_uses: 1 })).json().invitation.uses, 3, 'a quota below the uses so far closes the code');
    assert.equal((await register(t, { invitation_code: code })).json().error.code, 'INVITATION_EXHAUSTED');

    for (const bad of [{}, { max_uses: 0 }, { max_uses: 1.5 }, { max_uses: '10' }, { expires_in_days: 0 }, { expires_in_days: 4000 }, { uses: 0 }]) {
      const res = await limits(bad);
      assert.equal(res.statusCode, 400, JSON.stringify(bad));
      assert.equal(res.json().error.code, 'VALIDATION_FAILED');
    }
    assert.equal((await limits({ max_uses: 5 }, headers, 'ZZZZZZZZ')).statusCode, 404);
    const rotated = (await t.app.inject({ method: 'POST', url: `/api/admin/invitations/${code}/rotate`, headers })).json().invitation.invitation_code;
    assert.equal((await limits({ max_uses: 5 })).statusCode, 404, 'a revoked code stays dead');
    assert.equal((await limits({ max_uses: 5 }, { cookie: sessionCookie(await register(t)) }, rotated)).statusCode, 403);
    assert.equal((await limits({ max_uses: 5 }, {}, rotated)).statusCode, 401);

    const events = (await t.app.inject({ method: 'GET', url: `/api/admin/audit?event=admin.invitation_changed&target=organization:${created.organization.id}`, headers })).json().events;
    assert.deepEqual(
      events.map((e: { detail: Record<string, unknown> }) => Object.keys(e.detail)).reverse(),
      [['max_uses'], ['expires_at'], ['max_uses', 'expires_at'], ['max_uses']],
    );
  });

  it('with PUBLIC_URL set, the QR code links there, whatever address the console was reached at', async () => {
    const published = await createTestApp({ PUBLIC_URL: 'http://id.school.example.cn:8080' });
    try {
      const admin = { cookie: (await adminSession(published)).cookie };
      const code = (await published.app.inject({ method: 'POST', url: '/api/admin/organizations', headers: admin, payload: { name: '公开地址中学' } })).json().invitation.invitation_code as string;
      const qr = await published.app.inject({ method: 'GET', url: `/api/admin/invitations/${code}/qr.svg`, headers: { ...admin, host: '10.1.2.3:9527' } });
      assert.equal(qr.statusCode, 200, qr.body);
      assert.equal(qr.body, await QRCode.toString(`http://id.school.example.cn:8080/register?code=${code}`, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }));
    } finally {
      await published.close();
    }
  });

  it("a live code's registration link as a QR code for the projector (without PUBLIC_URL, the request's origin); none for revoked, unknown or malformed codes, or for non-admins", async () => {
    const created = (await t.app.inject({ method: 'POST', url: '/api/admin/organizations', headers, payload: { name: '投影中学' } })).json();
    const code: string = created.invitation.invitation_code;
    const qr = await t.app.inject({ method: 'GET', url: `/api/admin/invitations/${code}/qr.svg`, headers: { ...headers, host: 'gatehouse.school.example.cn:8443' } });
    assert.equal(qr.statusCode, 200, qr.body);
    assert.match(qr.headers['content-type'] as string, /^image\/svg\+xml/);
    assert.equal(qr.headers['cache-control'], 'no-store');
    assert.equal(qr.body, await QRCode.toString(`http://gatehouse.school.example.cn:8443/register?code=${code}`, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }));
    const lowerCase = await t.app.inject({ method: 'GET', url: `/api/admin/invitations/${code.toLowerCase()}/qr.svg`, headers: { ...headers, host: 'gatehouse.school.example.cn:8443' } });
    assert.equal(lowerCase.body, qr.body, 'a code typed in lower case is the same code');

    await t.app.inject({ method: 'POST', url: `/api/admin/invitations/${code}/revoke`, headers });
    for (const [path, status] of [[`${code}/qr.svg`, 404], ['ZZZZZZZZ/qr.svg', 404], ['not-a-code!/qr.svg', 400], ['AB/qr.svg', 400]] as const) {
      const res = await t.app.inject({ method: 'GET', url: `/api/admin/invitations/${path}`, headers });
      assert.equal(res.statusCode, status, path);
      assert.ok(res.json().error.code, 'an error body with a code');
    }
    const live = (await t.app.inject({ method: 'POST', url: `/api/admin/organizations/${created.organization.id}/invitations`, headers, payload: {} })).json().invitation.invitation_code;
    assert.equal((await t.app.inject({ method: 'GET', url: `/api/admin/invitations/${live}/qr.svg` })).statusCode, 401);
  });

  it('renames an organization and changes its SMS setting; refuses bad names, empty or unknown changes, and non-admins', async () => {
    const orgId = (await t.app.inject({ method: 'POST', url: '/api/admin/organizations', headers, payload: { name: 'Old name' } })).json().organization.id;
    const patch = (payload: unknown, as: Record<string, string> = headers, id = orgId) => t.app.inject({ method: 'PATCH', url: `/api/admin/organizations/${id}`, headers: as, payload: payload as object });
    const renamed = await patch({ name: '  第二   实验中学 ' });
    assert.equal(renamed.statusCode, 200, renamed.body);
    assert.deepEqual({ ...renamed.json().organization, created_at: undefined }, { id: orgId, name: '第二 实验中学', register_requires_sms: false, created_at: undefined });
    assert.equal((await patch({ register_requires_sms: true })).json().organization.register_requires_sms, true);
    const listed = (await t.app.inject({ method: 'GET', url: '/api/admin/organizations', headers })).json().organizations.find((o: { id: number }) => o.id === orgId);
    assert.equal(listed.name, '第二 实验中学');
    assert.equal(listed.register_requires_sms, true);

    for (const [payload, code] of [
      [{ name: '   ' }, 'INVALID_NAME'],
      [{ name: 'a\u202Eb' }, 'INVALID_NAME'],
      [{ name: 'x'.repeat(101) }, 'VALIDATION_FAILED'],
      [{}, 'VALIDATION_FAILED'],
      [{ register_requires_sms: 'yes' }, 'VALIDATION_FAILED'],
      [{ name: 'ok', owner: 1 }, 'VALIDATION_FAILED'],
    ] as const) {
      const res = await patch(payload);
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.equal(res.json().error.code, code, JSON.stringify(payload));
    }
    assert.equal((await patch({ name: 'Ghost' }, headers, 9999)).json().error.code, 'ORGANIZATION_NOT_FOUND');
    assert.equal((await patch({ name: 'Nobody' }, {})).statusCode, 401);
    const user = sessionCookie(await register(t));
    assert.equal((await patch({ name: 'Mine now' }, { cookie: user })).statusCode, 403);
    assert.equal((await t.app.inject({ method: 'POST', url: '/api/admin/organizations', headers, payload: { name: ' \t ' } })).json().error.code, 'INVALID_NAME');

    const events = (await t.app.inject({ method: 'GET', url: `/api/admin/audit?event=admin.organization_changed&target=organization:${orgId}`, headers })).json().events;
    assert.deepEqual(events.map((e: { detail: unknown }) => e.detail).reverse(), [{ name: '第二 实验中学' }, { register_requires_sms: true }]);
  });

  it("corrects a user's name and changes roles, which the user's session sees at once; an admin cannot change their own role", async () => {
    const res = await register(t, { name: '李老帅' });
    const id = res.json().user.id;
    const userCookie = { cookie: sessionCookie(res) };
    const patch = (userId: number, payload: unknown) => t.app.inject({ method: 'PATCH', url: `/api/admin/users/${userId}`, headers, payload: payload as object });
    const consoleAs = (as: Record<string, string>) => t.app.inject({ method: 'GET', url: '/api/admin/users?q=x', headers: as });

    assert.equal((await patch(id, { name: '  李   老师 ' })).json().user.name, '李 老师');
    const consoleError = async (as: Record<string, string>) => (await consoleAs(as)).json().error?.code;
    assert.equal(await consoleError(userCookie), 'FORBIDDEN');
    assert.equal((await patch(id, { role: 'admin' })).json().user.role, 'admin');
    assert.equal(await consoleError(userCookie), 'TWO_FACTOR_SETUP_REQUIRED', 'the same session is an admin now, asked to turn on two-factor sign-in');
    assert.equal((await patch(id, { role: 'user' })).json().user.role, 'user');
    assert.equal(await consoleError(userCookie), 'FORBIDDEN', 'and is not any more');

    const me = (await t.app.inject({ method: 'GET', url: '/api/auth/me', headers })).json().user;
    const self = await patch(me.id, { role: 'user' });
    assert.equal(self.statusCode, 403);
    assert.equal(self.json().error.code, 'FORBIDDEN');
    assert.equal((await consoleAs(headers)).statusCode, 200, 'still an admin');
    assert.equal((await patch(me.id, { name: 'Chief', role: 'admin' })).json().user.name, 'Chief', 'naming oneself, and "changing" to the same role, are fine');
    const selfDisable = await t.app.inject({ method: 'POST', url: `/api/admin/users/${me.id}/disable`, headers });
    assert.equal(selfDisable.json().error.code, 'FORBIDDEN');
    assert.equal((await consoleAs(headers)).statusCode, 200, 'still signed in');

    for (const [payload, code] of [[{}, 'VALIDATION_FAILED'], [{ role: 'root' }, 'VALIDATION_FAILED'], [{ name: '\u202E' }, 'INVALID_NAME'], [{ status: 'disabled' }, 'VALIDATION_FAILED']] as const) {
      const bad = await patch(id, payload);
      assert.equal(bad.statusCode, 400, JSON.stringify(payload));
      assert.equal(bad.json().error.code, code);
    }
    assert.equal((await patch(999999, { name: 'Nobody' })).statusCode, 404);
    const events = (await t.app.inject({ method: 'GET', url: `/api/admin/audit?event=admin.user_changed&target=user:${id}`, headers })).json().events;
    assert.deepEqual(events.map((e: { detail: unknown }) => e.detail).reverse(), [{ name: '李 老师' }, { role: 'admin' }, { role: 'user' }]);
  });

  it('finds users by phone digits or name; disables, enables, unlocks and forces a password reset', async () => {
    const phone = uniquePhone();
    const res = await register(t, { phone, name: '王老师', password: 'correct horse battery' });
    const id = res.json().user.id;
    const userCookie = sessionCookie(res);
    const byPhone = await t.app.inject({ method: 'GET', url: `/api/admin/users?q=${phone.slice(-6)}`, headers });
    assert.deepEqual(byPhone.json().users.map((u: { id: number }) => u.id), [id]);
    const byName = await t.app.inject({ method: 'GET', url: `/api/admin/users?q=${encodeURIComponent('王老')}`, headers });
    assert.ok(byName.json().users.some((u: { id: number }) => u.id === id));
    const orgOf = res.json().user.organization_id;
    const inOrg = await t.app.inject({ method: 'GET', url: `/api/admin/users?q=${phone.slice(-6)}&organization_id=${orgOf}`, headers });
    assert.deepEqual(inOrg.json().users.map((u: { id: number }) => u.id), [id]);
    const elsewhere = (await t.app.inject({ method: 'POST', url: '/api/admin/organizations', headers, payload: { name: 'Elsewhere' } })).json().organization.id;
    const notThere = await t.app.inject({ method: 'GET', url: `/api/admin/users?q=${phone.slice(-6)}&organization_id=${elsewhere}`, headers });
    assert.deepEqual(notThere.json().users, []);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/admin/users?organization_id=zero', headers })).statusCode, 400);

    const disabled = await t.app.inject({ method: 'POST', url: `/api/admin/users/${id}/disable`, headers });
    assert.equal(disabled.json().user.status, 'disabled');
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: userCookie } })).statusCode, 401, 'signed out everywhere');
    assert.equal((await login(t, phone, 'correct horse battery')).json().error.code, 'ACCOUNT_DISABLED');
    await t.app.inject({ method: 'POST', url: `/api/admin/users/${id}/enable`, headers });

    const lockState = async () => {
      const [user] = (await t.app.inject({ method: 'GET', url: `/api/admin/users?q=${phone.slice(-6)}`, headers })).json().users;
      return { failed: user.failed_logins as number, lockedUntil: user.locked_until as string | null };
    };
    assert.deepEqual(await lockState(), { failed: 0, lockedUntil: null });
    assert.equal((await login(t, phone, 'wrong wrong wrong 1')).statusCode, 401);
    assert.deepEqual(await lockState(), { failed: 1, lockedUntil: null }, 'the console sees a wrong password');
    assert.equal((await login(t, phone, 'wrong wrong wrong 2')).statusCode, 423);
    const locked = await lockState();
    assert.equal(locked.failed, 2);
    const lockedForS = (Date.parse(locked.lockedUntil!) - Date.now()) / 1000;
    assert.ok(lockedForS > 890 && lockedForS <= 900, `locked for LOCKOUT_SECONDS (900), not ${lockedForS}`);
    assert.equal((await t.app.inject({ method: 'POST', url: `/api/admin/users/${id}/unlock`, headers })).statusCode, 200);
    assert.deepEqual(await lockState(), { failed: 0, lockedUntil: null }, 'unlocked');
    const back = await login(t, phone, 'correct horse battery');
    assert.equal(back.statusCode, 200);

    const forced = await t.app.inject({ method: 'POST', url: `/api/admin/users/${id}/force-password-reset`, headers });
    assert.equal(forced.statusCode, 200);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: sessionCookie(back) } })).statusCode, 401);
    assert.equal((await login(t, phone, 'correct horse battery')).statusCode, 401, 'the old password is gone');
    const audit = await t.app.inject({ method: 'GET', url: `/api/admin/audit?target=user:${id}&event=admin.*`, headers });
    assert.deepEqual(audit.json().events.map((e: { event: string }) => e.event), ['admin.password_reset_forced', 'admin.user_unlocked', 'admin.user_enabled', 'admin.user_disabled']);
  });

  it("lists a user's sessions and revokes one, which signs that browser out", async () => {
    const phone = uniquePhone();
    const res = await register(t, { phone });
    const id = res.json().user.id;
    const sessions = await t.app.inject({ method: 'GET', url: `/api/admin/users/${id}/sessions`, headers });
    assert.equal(sessions.json().sessions.length, 1);
    const revoke = await t.app.inject({ method: 'DELETE', url: `/api/admin/sessions/${sessions.json().sessions[0].id}`, headers });
    assert.equal(revoke.statusCode, 204);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: sessionCookie(res) } })).statusCode, 401);
    assert.equal((await t.app.inject({ method: 'DELETE', url: `/api/admin/sessions/${sessions.json().sessions[0].id}`, headers })).statusCode, 404);
  });

  it('counts registrations per minute for an invitation code', async () => {
    for (let i = 0; i < 3; i++) await register(t);
    const res = await t.app.inject({ method: 'GET', url: `/api/admin/invitations/${t.invitationCode}/registrations?minutes=10`, headers });
    assert.equal(res.statusCode, 200);
    assert.ok(res.json().total >= 3);
    assert.ok(res.json().per_minute.every((m: { minute: string; count: number }) => m.count > 0 && m.minute.endsWith(':00.000Z')));
  });
});
