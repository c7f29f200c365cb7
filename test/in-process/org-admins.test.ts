// Organization administrators (role org_admin): each action of the console on their own
// organization works; anything about another organization is 403 OUTSIDE_ORGANIZATION; the
// platform's routes, a promotion to platform administrator and any action on a platform
// administrator are 403 FORBIDDEN. A platform administrator still does everything, everywhere.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { adminSession, assertRefused, createTestApp, injectAs, register, sessionCookie, type SignedInAs, startTaskConsumer, type TestApp, uniquePhone } from '../helpers/app.js';
import type { TaskConsumer } from '../../src/tasks/types.js';

type Session = SignedInAs;


describe('organization administrators', () => {
  let t: TestApp;
  let tasks: TaskConsumer;
  let platform: Session;
  /** The organization administrator's own organization, and another one. */
  const own = { id: 0, code: '' };
  const other = { id: 0, code: '' };
  let orgAdmin: Session;
  /** A member of each organization, and a platform administrator who belongs to the own one. */
  let member: Session;
  let stranger: Session;
  let platformInOwn: Session;

  const as = (who: Session, method: string, url: string, payload?: unknown, headers: Record<string, string> = {}) => injectAs(t, who, method, url, payload, headers);
  const upload = (who: Session, organizationId: number, roster: string) => as(who, 'POST', `/api/admin/organizations/${organizationId}/imports`, roster, { 'content-type': 'text/csv' });

  async function organization(name: string): Promise<{ id: number; code: string }> {
    const res = await as(platform, 'POST', '/api/admin/organizations', { name });
    assert.equal(res.statusCode, 201, res.body);
    return { id: res.json().organization.id, code: res.json().invitation.invitation_code };
  }
  async function memberOf(code: string): Promise<Session> {
    const res = await register(t, { phone: uniquePhone(), invitation_code: code });
    assert.equal(res.statusCode, 201, res.body);
    return { cookie: sessionCookie(res), userId: res.json().user.id };
  }
  async function exportDone(who: Session, id: number): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      if ((await as(who, 'GET', `/api/admin/exports/${id}`)).json().export.task.state === 'succeeded') return;
      await sleep(10);
    }
    throw new Error('export did not finish');
  }
  const refused = assertRefused;

  before(async () => {
    t = await createTestApp();
    tasks = startTaskConsumer(t);
    platform = await adminSession(t);
    Object.assign(own, await organization('本机构'));
    Object.assign(other, await organization('别的机构'));
    orgAdmin = await adminSession(t, { role: 'org_admin', invitationCode: own.code });
    member = await memberOf(own.code);
    stranger = await memberOf(other.code);
    platformInOwn = await adminSession(t, { invitationCode: own.code });
  });
  after(async () => {
    await tasks.stop();
    await t.close();
  });

  it('a platform administrator makes a member an organization administrator, who then needs a second factor like any administrator', async () => {
    const someone = await memberOf(own.code);
    const promoted = await as(platform, 'PATCH', `/api/admin/users/${someone.userId}`, { role: 'org_admin' });
    assert.equal(promoted.statusCode, 200, promoted.body);
    assert.equal(promoted.json().user.role, 'org_admin');
    refused(await as(someone, 'GET', '/api/admin/organizations'), 403, 'TWO_FACTOR_SETUP_REQUIRED', 'an organization administrator without two-factor sign-in');
    refused(await as(member, 'GET', '/api/admin/organizations'), 403, 'FORBIDDEN', 'an ordinary member');
  });

  it('sees and changes only their own organization and its invitation codes', async () => {
    const listed = await as(orgAdmin, 'GET', '/api/admin/organizations');
    assert.equal(listed.statusCode, 200, listed.body);
    assert.deepEqual(listed.json().organizations.map((o: { id: number }) => o.id), [own.id]);

    assert.equal((await as(orgAdmin, 'PATCH', `/api/admin/organizations/${own.id}`, { name: '本机构（改名）' })).statusCode, 200);
    const created = await as(orgAdmin, 'POST', `/api/admin/organizations/${own.id}/invitations`, { max_uses: 5 });
    assert.equal(created.statusCode, 201, created.body);
    const code = created.json().invitation.invitation_code as string;
    assert.equal((await as(orgAdmin, 'PATCH', `/api/admin/invitations/${code}`, { max_uses: 10 })).statusCode, 200);
    assert.equal((await as(orgAdmin, 'GET', `/api/admin/invitations/${code}/qr.svg`)).statusCode, 200);
    assert.equal((await as(orgAdmin, 'GET', `/api/admin/invitations/${code}/registrations`)).statusCode, 200);
    const rotated = await as(orgAdmin, 'POST', `/api/admin/invitations/${code}/rotate`);
    assert.equal(rotated.statusCode, 200, rotated.body);
    assert.equal((await as(orgAdmin, 'POST', `/api/admin/invitations/${rotated.json().invitation.invitation_code}/revoke`)).statusCode, 200);
  });

  it("is refused another organization and its invitation codes: 403 OUTSIDE_ORGANIZATION", async () => {
    refused(await as(orgAdmin, 'PATCH', `/api/admin/organizations/${other.id}`, { name: 'x' }), 403, 'OUTSIDE_ORGANIZATION', 'renaming another organization');
    refused(await as(orgAdmin, 'POST', `/api/admin/organizations/${other.id}/invitations`, {}), 403, 'OUTSIDE_ORGANIZATION', 'a code for another organization');
    refused(await as(orgAdmin, 'PATCH', `/api/admin/invitations/${other.code}`, { max_uses: 1 }), 403, 'OUTSIDE_ORGANIZATION', "another organization's code's quota");
    refused(await as(orgAdmin, 'GET', `/api/admin/invitations/${other.code}/qr.svg`), 403, 'OUTSIDE_ORGANIZATION', "another organization's QR code");
    refused(await as(orgAdmin, 'GET', `/api/admin/invitations/${other.code}/registrations`), 403, 'OUTSIDE_ORGANIZATION', "another organization's registrations");
    refused(await as(orgAdmin, 'POST', `/api/admin/invitations/${other.code}/rotate`), 403, 'OUTSIDE_ORGANIZATION', "rotating another organization's code");
    refused(await as(orgAdmin, 'POST', `/api/admin/invitations/${other.code}/revoke`), 403, 'OUTSIDE_ORGANIZATION', "revoking another organization's code");
    // The other organization's code still admits.
    assert.equal((await register(t, { invitation_code: other.code })).statusCode, 201);
  });

  it("is refused the platform's routes and the platform's settings: 403 FORBIDDEN", async () => {
    const platformRoutes: Array<[string, string, unknown?]> = [
      ['POST', '/api/admin/organizations', { name: 'new' }],
      ['DELETE', `/api/admin/organizations/${other.id}`],
      ['DELETE', `/api/admin/organizations/${own.id}`],
      ['GET', '/api/admin/api-keys'],
      ['POST', '/api/admin/api-keys', { name: 'k', scopes: ['admin'] }],
      ['GET', '/api/admin/tasks'],
      ['GET', '/api/admin/tasks/stats'],
      ['GET', '/api/admin/rate-limits?address=127.0.0.1'],
      ['POST', '/api/admin/rate-limits/reset', { address: '127.0.0.1' }],
      ['POST', '/api/admin/tasks/1/retry'],
      ['GET', '/api/admin/sms/outbox'],
    ];
    for (const [method, url, payload] of platformRoutes) refused(await as(orgAdmin, method, url, payload), 403, 'FORBIDDEN', `${method} ${url}`);
    // Whether registering needs an SMS code is the platform's: without it, phones can be pre-registered platform-wide.
    refused(await as(orgAdmin, 'PATCH', `/api/admin/organizations/${own.id}`, { register_requires_sms: false }), 403, 'FORBIDDEN', 'the SMS check');
  });

  it("manages its own organization's members: each action", async () => {
    const target = await memberOf(own.code);
    const search = await as(orgAdmin, 'GET', '/api/admin/users?limit=200');
    assert.equal(search.statusCode, 200, search.body);
    const found: Array<{ id: number; organization_id: number }> = search.json().users;
    assert.ok(found.some((u) => u.id === target.userId));
    assert.ok(found.every((u) => u.organization_id === own.id), 'only its own organization’s members');
    assert.equal((await as(orgAdmin, 'GET', `/api/admin/users?organization_id=${own.id}`)).statusCode, 200);

    for (const action of ['disable', 'enable', 'unlock', 'force-password-reset']) {
      const res = await as(orgAdmin, 'POST', `/api/admin/users/${target.userId}/${action}`);
      assert.equal(res.statusCode, 200, `${action}: ${res.body}`);
    }
    // Passes the organization check, then finds no two-factor sign-in to reset.
    refused(await as(orgAdmin, 'POST', `/api/admin/users/${target.userId}/reset-two-factor`), 409, 'TWO_FACTOR_NOT_ENABLED', 'reset-two-factor');
    assert.equal((await as(orgAdmin, 'PATCH', `/api/admin/users/${target.userId}`, { name: '改名' })).statusCode, 200);
    const promoted = await as(orgAdmin, 'PATCH', `/api/admin/users/${target.userId}`, { role: 'org_admin' });
    assert.equal(promoted.json().user?.role, 'org_admin', promoted.body);
    assert.equal((await as(orgAdmin, 'PATCH', `/api/admin/users/${target.userId}`, { role: 'user' })).json().user?.role, 'user');

    const signedIn = await memberOf(own.code);
    const sessions = await as(orgAdmin, 'GET', `/api/admin/users/${signedIn.userId}/sessions`);
    assert.equal(sessions.statusCode, 200, sessions.body);
    const [session] = sessions.json().sessions as Array<{ id: number }>;
    assert.equal((await as(orgAdmin, 'DELETE', `/api/admin/sessions/${session!.id}`)).statusCode, 204);
    assert.equal((await as(orgAdmin, 'DELETE', `/api/admin/users/${target.userId}`)).statusCode, 204);
  });

  it("is refused another organization's members: 403 OUTSIDE_ORGANIZATION, and moving a member there", async () => {
    refused(await as(orgAdmin, 'GET', `/api/admin/users?organization_id=${other.id}`), 403, 'OUTSIDE_ORGANIZATION', "searching another organization's members");
    for (const action of ['disable', 'enable', 'unlock', 'force-password-reset', 'reset-two-factor']) {
      refused(await as(orgAdmin, 'POST', `/api/admin/users/${stranger.userId}/${action}`), 403, 'OUTSIDE_ORGANIZATION', action);
    }
    refused(await as(orgAdmin, 'PATCH', `/api/admin/users/${stranger.userId}`, { name: 'x' }), 403, 'OUTSIDE_ORGANIZATION', "renaming another organization's member");
    refused(await as(orgAdmin, 'GET', `/api/admin/users/${stranger.userId}/sessions`), 403, 'OUTSIDE_ORGANIZATION', "another organization's member's sessions");
    const strangerSession = (await as(platform, 'GET', `/api/admin/users/${stranger.userId}/sessions`)).json().sessions[0].id as number;
    refused(await as(orgAdmin, 'DELETE', `/api/admin/sessions/${strangerSession}`), 403, 'OUTSIDE_ORGANIZATION', "another organization's member's session");
    refused(await as(orgAdmin, 'DELETE', `/api/admin/users/${stranger.userId}`), 403, 'OUTSIDE_ORGANIZATION', "deleting another organization's member");
    refused(await as(orgAdmin, 'PATCH', `/api/admin/users/${member.userId}`, { organization_id: other.id }), 403, 'OUTSIDE_ORGANIZATION', 'moving a member out');
    // Nothing happened to them.
    const still = await t.database.db.selectFrom('users').select(['status', 'name', 'organization_id']).where('id', '=', stranger.userId).executeTakeFirstOrThrow();
    assert.deepEqual(still, { status: 'active', name: '张老师', organization_id: other.id });
    assert.equal((await as(stranger, 'GET', '/api/auth/me')).statusCode, 200, 'the session is still live');
  });

  it('makes nobody a platform administrator and leaves platform administrators alone: 403 FORBIDDEN', async () => {
    refused(await as(orgAdmin, 'PATCH', `/api/admin/users/${member.userId}`, { role: 'admin' }), 403, 'FORBIDDEN', 'promoting a member to admin');
    refused(await as(orgAdmin, 'PATCH', `/api/admin/users/${orgAdmin.userId}`, { role: 'admin' }), 403, 'FORBIDDEN', 'promoting oneself to admin');
    for (const action of ['disable', 'unlock', 'force-password-reset', 'reset-two-factor']) {
      refused(await as(orgAdmin, 'POST', `/api/admin/users/${platformInOwn.userId}/${action}`), 403, 'FORBIDDEN', `${action} on a platform administrator`);
    }
    refused(await as(orgAdmin, 'PATCH', `/api/admin/users/${platformInOwn.userId}`, { role: 'user' }), 403, 'FORBIDDEN', 'demoting a platform administrator');
    refused(await as(orgAdmin, 'GET', `/api/admin/users/${platformInOwn.userId}/sessions`), 403, 'FORBIDDEN', "a platform administrator's sessions");
    refused(await as(orgAdmin, 'DELETE', `/api/admin/users/${platformInOwn.userId}`), 403, 'FORBIDDEN', 'deleting a platform administrator');
    const roles = await t.database.db.selectFrom('users').select(['id', 'role', 'status']).where('id', 'in', [member.userId, orgAdmin.userId, platformInOwn.userId]).orderBy('id').execute();
    assert.deepEqual(roles.map((r) => [r.role, r.status]), [['org_admin', 'active'], ['user', 'active'], ['admin', 'active']]);
  });

  it('imports and exports its own organization, and no other', async () => {
    const imported = await upload(orgAdmin, own.id, `name,phone,role\n甲,${uniquePhone()},\n乙,${uniquePhone()},机构管理员\n`);
    assert.equal(imported.statusCode, 202, imported.body);
    const importId = imported.json().import.id as number;
    assert.equal((await as(orgAdmin, 'GET', `/api/admin/imports/${importId}`)).statusCode, 200);
    assert.equal((await as(orgAdmin, 'GET', `/api/admin/imports/${importId}/report`)).statusCode, 200);
    refused(await upload(orgAdmin, own.id, `name,phone,role\n丙,${uniquePhone()},admin\n`), 403, 'FORBIDDEN', 'a roster that makes a platform administrator');

    const exported = await as(orgAdmin, 'POST', `/api/admin/organizations/${own.id}/exports`);
    assert.equal(exported.statusCode, 202, exported.body);
    const exportId = exported.json().export.id as number;
    await exportDone(orgAdmin, exportId);
    const file = await as(orgAdmin, 'GET', `/api/admin/exports/${exportId}/file`);
    assert.equal(file.statusCode, 200, file.body);

    // Another organization's.
    refused(await upload(orgAdmin, other.id, `name,phone\n丁,${uniquePhone()}\n`), 403, 'OUTSIDE_ORGANIZATION', 'importing into another organization');
    refused(await as(orgAdmin, 'POST', `/api/admin/organizations/${other.id}/exports`), 403, 'OUTSIDE_ORGANIZATION', 'exporting another organization');
    const theirImport = (await upload(platform, other.id, `name,phone\n戊,${uniquePhone()}\n`)).json().import.id as number;
    const theirExport = (await as(platform, 'POST', `/api/admin/organizations/${other.id}/exports`)).json().export.id as number;
    await exportDone(platform, theirExport);
    refused(await as(orgAdmin, 'GET', `/api/admin/imports/${theirImport}`), 403, 'OUTSIDE_ORGANIZATION', "another organization's import");
    refused(await as(orgAdmin, 'GET', `/api/admin/imports/${theirImport}/report`), 403, 'OUTSIDE_ORGANIZATION', "another organization's import report");
    refused(await as(orgAdmin, 'GET', `/api/admin/exports/${theirExport}`), 403, 'OUTSIDE_ORGANIZATION', "another organization's export");
    refused(await as(orgAdmin, 'GET', `/api/admin/exports/${theirExport}/file`), 403, 'OUTSIDE_ORGANIZATION', "another organization's export file");
  });

  it("reads the audit events about its organization and its members, and none about another's", async () => {
    await as(platform, 'PATCH', `/api/admin/organizations/${other.id}`, { name: '别的机构（改名）' });
    await as(platform, 'POST', `/api/admin/users/${stranger.userId}/unlock`);
    await as(orgAdmin, 'POST', `/api/admin/users/${member.userId}/unlock`);
    const res = await as(orgAdmin, 'GET', '/api/admin/audit?limit=1000');
    assert.equal(res.statusCode, 200, res.body);
    const targets = new Set((res.json().events as Array<{ target: string | null }>).map((e) => e.target));
    assert.ok(targets.has(`organization:${own.id}`));
    assert.ok(targets.has(`user:${member.userId}`));
    assert.ok(!targets.has(`organization:${other.id}`), "another organization's events");
    assert.ok(!targets.has(`user:${stranger.userId}`), "another organization's member's events");
    const members = new Set((await t.database.db.selectFrom('users').select('id').where('organization_id', '=', own.id).execute()).map((u) => `user:${u.id}`));
    for (const target of targets) assert.ok(target === `organization:${own.id}` || members.has(target!), `an event about ${target}`);
    const asked = await as(orgAdmin, 'GET', `/api/admin/audit?target=organization:${other.id}`);
    assert.deepEqual(asked.json().events, [], 'asking for them by name');
  });

  it('asks for a recent re-authentication to change a role, as for any administrator', async () => {
    const stale = Date.now() - 3_600_000;
    await t.database.db.updateTable('sessions').set({ password_at: stale, second_factor_at: stale }).where('user_id', '=', orgAdmin.userId).execute();
    refused(await as(orgAdmin, 'PATCH', `/api/admin/users/${member.userId}`, { role: 'org_admin' }), 401, 'REAUTHENTICATION_REQUIRED', 'a stale session');
  });

  it('leaves a platform administrator able to do everything, in every organization', async () => {
    const listed = (await as(platform, 'GET', '/api/admin/organizations')).json().organizations.map((o: { id: number }) => o.id);
    assert.ok(listed.includes(own.id) && listed.includes(other.id));
    assert.equal((await as(platform, 'PATCH', `/api/admin/organizations/${other.id}`, { register_requires_sms: false })).statusCode, 200);
    assert.equal((await as(platform, 'POST', `/api/admin/organizations/${other.id}/invitations`, {})).statusCode, 201);
    assert.equal((await as(platform, 'POST', `/api/admin/users/${stranger.userId}/disable`)).statusCode, 200);
    assert.equal((await as(platform, 'POST', `/api/admin/users/${stranger.userId}/enable`)).statusCode, 200);
    assert.equal((await as(platform, 'GET', `/api/admin/users/${platformInOwn.userId}/sessions`)).statusCode, 200);
    assert.equal((await upload(platform, other.id, `name,phone,role\n己,${uniquePhone()},admin\n`)).statusCode, 202);
    assert.equal((await as(platform, 'PATCH', `/api/admin/users/${stranger.userId}`, { role: 'admin' })).json().user?.role, 'admin');
    assert.equal((await as(platform, 'PATCH', `/api/admin/users/${stranger.userId}`, { role: 'user', organization_id: own.id })).json().user?.organization_id, own.id);
    assert.equal((await as(platform, 'GET', '/api/admin/api-keys')).statusCode, 200);
    const audit = (await as(platform, 'GET', `/api/admin/audit?target=organization:${other.id}`)).json().events;
    assert.ok(audit.length > 0);
  });
});
