// The admin API of the OpenID Connect client registry: a platform administrator registers apps (a
// confidential one's secret shown once and stored as its SHA-256), lists and shows them without
// secrets, changes, rotates, disables, enables and deletes them, each change audited; bad URIs,
// roles and organizations are refused with stable codes; nobody else reaches any of it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { adminSession, assertRefused, createApiKey, createTestApp, injectAs, register, sessionCookie, type SignedInAs, type TestApp } from '../helpers/app.js';

type Session = SignedInAs;

const BASE = '/api/admin/oidc/clients';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('OpenID Connect clients in the admin API', () => {
  let t: TestApp;
  let admin: Session;

  const as = (who: Session | undefined, method: string, url: string, payload?: unknown) => injectAs(t, who, method, url, payload);
  const refused = assertRefused;
  async function create(payload: Record<string, unknown>): Promise<{ client: Record<string, any>; client_secret: string | null }> {
    const res = await as(admin, 'POST', BASE, payload);
    assert.equal(res.statusCode, 201, res.body);
    return res.json();
  }
  const storedRow = (clientId: string) => t.database.db.selectFrom('oidc_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
  const auditOf = (clientId: string) =>
    t.database.db.selectFrom('audit_events').selectAll().where('target', '=', `oidc_client:${clientId}`).orderBy('id').execute();

  before(async () => {
    t = await createTestApp();
    admin = await adminSession(t);
  });
  after(() => t.close());

  it('registers a confidential app: its secret is in the 201 only, and the table holds its SHA-256', async () => {
    const { client, client_secret } = await create({ name: ' 学习 平台 ', redirect_uris: ['https://learn.school.example/oidc/callback'], first_party: true });
    assert.match(client.client_id, /^gtc_[a-z2-7]{24}$/);
    assert.match(client_secret!, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
    assert.equal(client.name, '学习 平台');
    assert.equal(client.type, 'confidential');
    assert.equal(client.first_party, true);
    assert.equal(client.status, 'active');
    assert.deepEqual(client.grant_types, ['authorization_code', 'refresh_token', 'client_credentials']);
    assert.deepEqual(client.redirect_uris, ['https://learn.school.example/oidc/callback']);
    assert.equal(client.allowed_organization_ids, null);
    assert.equal(client.allowed_roles, null);
    assert.equal(client.created_by, `user:${admin.userId}`);

    const row = await storedRow(client.client_id);
    assert.equal(row?.secret_hash, sha256(client_secret!));
    assert.ok(!JSON.stringify(row).includes(client_secret!), 'the secret itself is stored nowhere in the row');

    const [event, ...more] = await auditOf(client.client_id);
    assert.equal(event?.event, 'oidc_client.created');
    assert.equal(more.length, 0);
    assert.equal(event?.actor, `user:${admin.userId}`);
    assert.deepEqual(JSON.parse(event!.detail!).redirect_uris, ['https://learn.school.example/oidc/callback']);
    const everyEvent = JSON.stringify(await t.database.db.selectFrom('audit_events').selectAll().execute());
    assert.ok(!everyEvent.includes(client_secret!) && !everyEvent.includes(row!.secret_hash!), 'neither the secret nor its hash is audited');
  });

  it('lists and shows apps without their secrets or hashes', async () => {
    const { client, client_secret } = await create({ name: 'Grafana', redirect_uris: ['https://grafana.school.example/login/generic_oauth'] });
    const hash = sha256(client_secret!);
    const listed = await as(admin, 'GET', BASE);
    assert.equal(listed.statusCode, 200, listed.body);
    assert.equal(listed.json().clients[0].client_id, client.client_id, 'newest first');
    const shown = await as(admin, 'GET', `${BASE}/${client.client_id}`);
    assert.equal(shown.statusCode, 200, shown.body);
    assert.deepEqual(shown.json().client, client);
    for (const res of [listed, shown]) {
      assert.ok(!res.body.includes(client_secret!), 'no secret');
      assert.ok(!res.body.includes(hash), 'no hash');
      assert.ok(!/secret_hash|client_secret/.test(res.body), 'no field for either');
    }
    refused(await as(admin, 'GET', `${BASE}/gtc_aaaaaaaaaaaaaaaaaaaaaaaa`), 404, 'CLIENT_NOT_FOUND', 'an id that names no app');
    refused(await as(admin, 'GET', `${BASE}/not-even-an-id`), 404, 'CLIENT_NOT_FOUND', 'an id of another shape');
  });

  it('registers a public app without a secret and never with client credentials', async () => {
    const { client, client_secret } = await create({ name: 'Timetable SPA', redirect_uris: ['http://localhost:5173/callback', 'http://127.0.0.1:8080/cb', 'http://[::1]:8080/cb'], public: true });
    assert.equal(client_secret, null);
    assert.equal(client.type, 'public');
    assert.deepEqual(client.grant_types, ['authorization_code', 'refresh_token']);
    assert.equal((await storedRow(client.client_id))?.secret_hash, null);
    const asked = refused(await as(admin, 'POST', BASE, { name: 'x', redirect_uris: ['https://a.example/cb'], public: true, grant_types: ['authorization_code', 'client_credentials'] }), 400, 'INVALID_CLIENT_METADATA', 'a public app asking for client credentials');
    assert.equal(asked.field, 'body.grant_types');
    refused(await as(admin, 'POST', `${BASE}/${client.client_id}/rotate-secret`), 409, 'CLIENT_HAS_NO_SECRET', 'rotating a public app');
  });

  it('refuses redirect URIs that are not https (but loopback http), relative, with a fragment, a wildcard or credentials', async () => {
    const bad: Array<[string, RegExp]> = [
      ['http://learn.school.example/cb', /uses http/],
      ['http://192.168.1.10/cb', /uses http/],
      ['https://learn.school.example/cb#done', /fragment/],
      ['https://learn.school.example/cb#', /fragment/],
      ['/oidc/callback', /not an absolute URI/],
      ['https:learn.school.example/cb', /not an absolute URI/],
      ['javascript://alert(1)', /must use https/],
      ['https://*.school.example/cb', /wildcard/],
      ['https://user:pass@learn.school.example/cb', /user name or password/],
      ['https://learn.school.example/c b', /spaces/],
    ];
    for (const [uri, reason] of bad) {
      const error = refused(await as(admin, 'POST', BASE, { name: 'Bad', redirect_uris: ['https://fine.school.example/cb', uri] }), 400, 'INVALID_REDIRECT_URI', uri);
      assert.equal(error.field, 'body.redirect_uris', uri);
      assert.match(String(error.message), reason, uri);
    }
    const postLogout = refused(await as(admin, 'POST', BASE, { name: 'Bad', redirect_uris: ['https://fine.school.example/cb'], post_logout_redirect_uris: ['http://fine.school.example/'] }), 400, 'INVALID_REDIRECT_URI', 'a post-logout URI');
    assert.equal(postLogout.field, 'body.post_logout_redirect_uris');
    const backchannel = refused(await as(admin, 'POST', BASE, { name: 'Bad', redirect_uris: ['https://fine.school.example/cb'], backchannel_logout_uri: 'https://fine.school.example/logout#x' }), 400, 'INVALID_CLIENT_METADATA', 'a back-channel URI');
    assert.equal(backchannel.field, 'body.backchannel_logout_uri');
    refused(await as(admin, 'POST', BASE, { name: 'No way back' }), 400, 'INVALID_REDIRECT_URI', 'a sign-in app without a redirect URI');
    const machine = await create({ name: 'Nightly sync', grant_types: ['client_credentials'] });
    assert.deepEqual([machine.client.redirect_uris, machine.client.grant_types], [[], ['client_credentials']], 'a client_credentials-only app needs none');
    assert.equal((await as(admin, 'GET', BASE)).json().clients.some((c: { name: string }) => c.name === 'Bad'), false, 'nothing refused was stored');
  });

  it('limits sign-in to real roles and existing organizations', async () => {
    const role = refused(await as(admin, 'POST', BASE, { name: 'Staff only', redirect_uris: ['https://staff.school.example/cb'], allowed_roles: ['teacher'] }), 400, 'VALIDATION_FAILED', 'a role that does not exist');
    assert.match(String(role.field), /allowed_roles/);
    const organization = refused(await as(admin, 'POST', BASE, { name: 'Staff only', redirect_uris: ['https://staff.school.example/cb'], allowed_organization_ids: [1, 987654] }), 404, 'ORGANIZATION_NOT_FOUND', 'an organization that does not exist');
    assert.equal(organization.field, 'body.allowed_organization_ids');
    assert.match(String(organization.message), /987654/);
    const { client } = await create({ name: 'Staff only', redirect_uris: ['https://staff.school.example/cb'], allowed_roles: ['admin', 'org_admin', 'admin'], allowed_organization_ids: [1] });
    assert.deepEqual(client.allowed_roles, ['org_admin', 'admin']);
    assert.deepEqual(client.allowed_organization_ids, [1]);
  });

  it('changes an app in place, audited field by field; null lifts a limit', async () => {
    const { client } = await create({ name: 'Moodle', redirect_uris: ['https://moodle.school.example/admin/oauth2callback.php'], allowed_roles: ['user'] });
    const url = `${BASE}/${client.client_id}`;
    const changed = await as(admin, 'PATCH', url, { name: 'Moodle 4', redirect_uris: ['https://moodle.school.example/admin/oauth2callback.php', 'https://moodle2.school.example/admin/oauth2callback.php'], backchannel_logout_uri: 'https://moodle.school.example/logout', allowed_roles: null });
    assert.equal(changed.statusCode, 200, changed.body);
    const after = changed.json().client;
    assert.equal(after.name, 'Moodle 4');
    assert.equal(after.redirect_uris.length, 2);
    assert.equal(after.backchannel_logout_uri, 'https://moodle.school.example/logout');
    assert.equal(after.allowed_roles, null);
    assert.equal(after.client_id, client.client_id);
    const updated = (await auditOf(client.client_id)).find((e) => e.event === 'oidc_client.updated');
    const detail = JSON.parse(updated!.detail!);
    assert.deepEqual(detail.name, { from: 'Moodle', to: 'Moodle 4' });
    assert.deepEqual(detail.allowed_roles, { from: ['user'], to: null });
    assert.equal(detail.first_party, undefined, 'only what changed');
    refused(await as(admin, 'PATCH', url, { redirect_uris: [] }), 400, 'INVALID_REDIRECT_URI', 'leaving a sign-in app no redirect URI');
    refused(await as(admin, 'PATCH', url, { redirect_uris: ['http://moodle.school.example/cb'] }), 400, 'INVALID_REDIRECT_URI', 'an http URI');
    refused(await as(admin, 'PATCH', url, {}), 400, 'VALIDATION_FAILED', 'nothing to change');
    refused(await as(admin, 'PATCH', `${BASE}/gtc_aaaaaaaaaaaaaaaaaaaaaaaa`, { name: 'x' }), 404, 'CLIENT_NOT_FOUND', 'an unknown app');
    assert.equal((await as(admin, 'GET', url)).json().client.name, 'Moodle 4', 'a refused change changes nothing');
  });

  it('rotates a secret: a new one, shown once, whose SHA-256 replaces the old one', async () => {
    const { client, client_secret } = await create({ name: 'Nextcloud', redirect_uris: ['https://cloud.school.example/apps/user_oidc/code'] });
    const rotated = await as(admin, 'POST', `${BASE}/${client.client_id}/rotate-secret`);
    assert.equal(rotated.statusCode, 200, rotated.body);
    const secret = rotated.json().client_secret as string;
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(secret, client_secret);
    const row = await storedRow(client.client_id);
    assert.equal(row?.secret_hash, sha256(secret));
    assert.ok(row?.secret_rotated_at);
    assert.ok(rotated.json().client.secret_rotated_at);
    const events = await auditOf(client.client_id);
    assert.deepEqual(events.map((e) => e.event), ['oidc_client.created', 'oidc_client.secret_rotated']);
    assert.ok(!JSON.stringify(events).includes(secret));
    refused(await as(admin, 'POST', `${BASE}/gtc_aaaaaaaaaaaaaaaaaaaaaaaa/rotate-secret`), 404, 'CLIENT_NOT_FOUND', 'an unknown app');
  });

  it('disables, enables and deletes an app, each audited; a deleted app is gone', async () => {
    const { client } = await create({ name: 'GitLab', redirect_uris: ['https://git.school.example/users/auth/openid_connect/callback'] });
    const url = `${BASE}/${client.client_id}`;
    const disabled = await as(admin, 'POST', `${url}/disable`);
    assert.equal(disabled.statusCode, 200, disabled.body);
    assert.equal(disabled.json().client.status, 'disabled');
    assert.ok(disabled.json().client.disabled_at);
    assert.equal((await t.app.inject({ method: 'GET', url, headers: { cookie: admin.cookie } })).json().client.status, 'disabled');
    const enabled = await as(admin, 'POST', `${url}/enable`);
    assert.equal(enabled.json().client.status, 'active');
    assert.equal(enabled.json().client.disabled_at, null);
    const deleted = await as(admin, 'DELETE', url);
    assert.equal(deleted.statusCode, 200, deleted.body);
    assert.equal(deleted.json().client.client_id, client.client_id);
    refused(await as(admin, 'GET', url), 404, 'CLIENT_NOT_FOUND', 'after deletion');
    refused(await as(admin, 'DELETE', url), 404, 'CLIENT_NOT_FOUND', 'deleting again');
    refused(await as(admin, 'POST', `${url}/disable`), 404, 'CLIENT_NOT_FOUND', 'disabling a deleted app');
    refused(await as(admin, 'POST', `${url}/enable`), 404, 'CLIENT_NOT_FOUND', 'enabling a deleted app');
    assert.equal(await storedRow(client.client_id), undefined);
    assert.deepEqual((await auditOf(client.client_id)).map((e) => [e.event, e.actor]), [
      ['oidc_client.created', `user:${admin.userId}`],
      ['oidc_client.disabled', `user:${admin.userId}`],
      ['oidc_client.enabled', `user:${admin.userId}`],
      ['oidc_client.deleted', `user:${admin.userId}`],
    ]);
  });

  it('admits platform administrators only: a user, an organization administrator and nobody at all are refused', async () => {
    const { client } = await create({ name: 'Locked away', redirect_uris: ['https://locked.school.example/cb'] });
    const url = `${BASE}/${client.client_id}`;
    const res = await register(t);
    const user: Session = { cookie: sessionCookie(res), userId: res.json().user.id };
    const orgAdmin = await adminSession(t, { role: 'org_admin' });
    const attempts: Array<[string, string, unknown?]> = [
      ['GET', BASE],
      ['POST', BASE, { name: 'Mine', redirect_uris: ['https://mine.example/cb'] }],
      ['GET', url],
      ['PATCH', url, { name: 'Taken over' }],
      ['POST', `${url}/rotate-secret`],
      ['POST', `${url}/disable`],
      ['POST', `${url}/enable`],
      ['DELETE', url],
    ];
    for (const [method, path, payload] of attempts) {
      refused(await as(user, method, path, payload), 403, 'FORBIDDEN', `a user: ${method} ${path}`);
      refused(await as(orgAdmin, method, path, payload), 403, 'FORBIDDEN', `an organization administrator: ${method} ${path}`);
      refused(await as(undefined, method, path, payload), 401, 'UNAUTHENTICATED', `nobody: ${method} ${path}`);
    }
    const unchanged = (await as(admin, 'GET', url)).json().client;
    assert.deepEqual([unchanged.name, unchanged.status, unchanged.secret_rotated_at], ['Locked away', 'active', null]);
  });

  it('asks for a recent re-authentication to register an app, rotate its secret or delete it — not to list, change or disable it; API keys are never asked', async () => {
    const stale = await adminSession(t);
    const { client } = await create({ name: 'Needs proof', redirect_uris: ['https://proof.school.example/cb'] });
    const url = `${BASE}/${client.client_id}`;
    const key = await createApiKey(t, admin.cookie, ['admin']);
    const longAgo = Date.now() - 3_600_000;
    await t.database.db.updateTable('sessions').set({ password_at: longAgo, second_factor_at: longAgo }).where('user_id', '=', stale.userId).execute();
    refused(await as(stale, 'POST', BASE, { name: 'x', redirect_uris: ['https://x.example/cb'] }), 401, 'REAUTHENTICATION_REQUIRED', 'registering');
    refused(await as(stale, 'POST', `${url}/rotate-secret`), 401, 'REAUTHENTICATION_REQUIRED', 'rotating');
    refused(await as(stale, 'DELETE', url), 401, 'REAUTHENTICATION_REQUIRED', 'deleting');
    assert.equal((await as(stale, 'GET', url)).statusCode, 200);
    assert.equal((await as(stale, 'PATCH', url, { first_party: true })).statusCode, 200);
    assert.equal((await as(stale, 'POST', `${url}/disable`)).statusCode, 200);
    assert.equal((await as(stale, 'POST', `${url}/enable`)).statusCode, 200);
    const byKey = await t.app.inject({ method: 'POST', url: `${url}/rotate-secret`, headers: { authorization: `Bearer ${key.key}` } });
    assert.equal(byKey.statusCode, 200, byKey.body);
    assert.equal((await auditOf(client.client_id)).at(-1)?.actor, `apikey:${key.prefix}`);
    assert.equal((await storedRow(client.client_id))?.secret_hash, sha256(byKey.json().client_secret));
  });
});
