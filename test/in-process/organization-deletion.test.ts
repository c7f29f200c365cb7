// Organizations come and go: an empty one is deleted with its codes; one with members is refused
// until they are moved (or deleted); a code that another worker still caches admits nobody after.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminSession, anotherWorker, createTestApp, login, register, sessionCookie, uniquePhone, type TestApp } from '../helpers/app.js';

describe('organization deletion and moving members', () => {
  let t: TestApp;
  let headers: { cookie: string };
  before(async () => {
    t = await createTestApp();
    headers = { cookie: (await adminSession(t)).cookie };
  });
  after(() => t.close());

  async function organization(name: string): Promise<{ id: number; code: string }> {
    const res = await t.app.inject({ method: 'POST', url: '/api/admin/organizations', headers, payload: { name } });
    assert.equal(res.statusCode, 201, res.body);
    return { id: res.json().organization.id, code: res.json().invitation.invitation_code };
  }
  const remove = (id: number) => t.app.inject({ method: 'DELETE', url: `/api/admin/organizations/${id}`, headers });

  it('an empty organization is deleted with its invitation codes; a second time is 404', async () => {
    const { id, code } = await organization('Summer course');
    const deleted = await remove(id);
    assert.equal(deleted.statusCode, 204, deleted.body);
    const listed = (await t.app.inject({ method: 'GET', url: '/api/admin/organizations', headers })).json().organizations;
    assert.equal(listed.some((o: { id: number }) => o.id === id), false);
    assert.equal((await register(t, { invitation_code: code })).json().error.code, 'INVALID_INVITATION_CODE');
    assert.equal((await remove(id)).json().error.code, 'ORGANIZATION_NOT_FOUND');
    for (const bad of ['abc', '0', '-1', '1.5', '99999999999999999999']) {
      const res = await t.app.inject({ method: 'DELETE', url: `/api/admin/organizations/${bad}`, headers });
      assert.equal(res.statusCode, 400, `id ${bad}`);
      assert.equal((await t.app.inject({ method: 'DELETE', url: `/api/admin/users/${bad}`, headers })).statusCode, 400, `user id ${bad}`);
    }
    const [event] = await t.database.db.selectFrom('audit_events').select('detail').where('event', '=', 'admin.organization_deleted').where('target', '=', `organization:${id}`).execute();
    assert.deepEqual(JSON.parse(String(event!.detail)), { name: 'Summer course' });
  });

  it('one with a member is refused until the member moves to another organization, who keeps signing in', async () => {
    const from = await organization('Old school');
    const to = await organization('New school');
    const phone = uniquePhone();
    const registered = await register(t, { phone, invitation_code: from.code });
    assert.equal(registered.statusCode, 201, registered.body);
    const userId = registered.json().user.id as number;

    const refused = await remove(from.id);
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json().error.code, 'ORGANIZATION_NOT_EMPTY');
    assert.ok(await t.database.db.selectFrom('invitation_codes').select('code').where('code', '=', from.code).executeTakeFirst(), 'nothing was deleted');

    const move = (organization_id: number) => t.app.inject({ method: 'PATCH', url: `/api/admin/users/${userId}`, headers, payload: { organization_id } });
    assert.equal((await move(987_654)).json().error.code, 'ORGANIZATION_NOT_FOUND');
    const moved = await move(to.id);
    assert.equal(moved.statusCode, 200, moved.body);
    assert.equal(moved.json().user.organization_id, to.id);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: sessionCookie(registered) } })).json().user.organization_id, to.id);

    assert.equal((await remove(from.id)).statusCode, 204);
    assert.equal((await login(t, phone, 'correct horse battery')).statusCode, 200, 'the moved member is untouched');
  });

  it('a worker that still caches a deleted organization’s code refuses it cleanly', async () => {
    const { id, code } = await organization('Cached');
    const other = await anotherWorker(t);
    try {
      // The other worker looks the code up (and caches it) for a registration that fails late: the phone is taken.
      const taken = uniquePhone();
      assert.equal((await register(t, { phone: taken })).statusCode, 201);
      assert.equal((await register(other, { phone: taken, invitation_code: code })).json().error.code, 'PHONE_TAKEN');
      assert.equal((await remove(id)).statusCode, 204);
      const late = await register(other, { invitation_code: code });
      assert.equal(late.statusCode, 400, late.body);
      assert.equal(late.json().error.code, 'INVALID_INVITATION_CODE');
    } finally {
      await other.app.close();
    }
  });
});
