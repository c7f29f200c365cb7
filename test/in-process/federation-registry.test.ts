// Upstream sign-in providers as administrators set them up, and the external identities linked to
// accounts: the app secret is sealed at rest, never listed or audited, and unsealed only for the
// sign-in flow; bad settings are refused with stable codes; only platform administrators change
// providers (setting one needs a recent re-authentication); identities link once, are never taken
// from another account, and the last way to sign in is never unlinked; every change is audited.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditLog } from '../../src/audit/service.js';
import type { Database } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { Identities } from '../../src/federation/identities.js';
import { PROVIDER_NAMES } from '../../src/federation/provider-rules.js';
import { SignInProviders } from '../../src/federation/registry.js';
import type { ExternalIdentity } from '../../src/federation/types.js';
import { OrgService } from '../../src/orgs/service.js';
import { OPERATOR } from '../../src/principal.js';
import { adminSession, assertRefused, createApiKey, createTestApp, injectAs, register, sessionCookie, type SignedInAs, TEST_SECRET, type TestApp, uniquePhone } from '../helpers/app.js';
import { bothBackends } from '../helpers/postgres.js';
import { unmet } from '../helpers/requirements.js';

type Session = SignedInAs;

const BASE = '/api/admin/sign-in-providers';
const SECRET = 'wx-app-secret-0123456789abcdef';

describe('sign-in providers and linked identities', () => {
  let t: TestApp;
  let admin: Session;
  let registry: SignInProviders;
  let identities: Identities;

  const as = (who: Session | undefined, method: string, url: string, payload?: unknown) => injectAs(t, who, method, url, payload);
  const refused = assertRefused;
  const auditAbout = (target: string) => t.database.db.selectFrom('audit_events').selectAll().where('target', '=', target).orderBy('id').execute();
  const storedRow = (name: string) => t.database.db.selectFrom('sign_in_providers').selectAll().where('name', '=', name).executeTakeFirst();
  async function member(): Promise<Session> {
    const res = await register(t, { phone: uniquePhone() });
    assert.equal(res.statusCode, 201, res.body);
    return { cookie: sessionCookie(res), userId: res.json().user.id };
  }
  const wechat = (subject: string): ExternalIdentity => ({ provider: 'wechat', subject, displayName: '微信用户', avatarUrl: 'https://thirdwx.qlogo.cn/a.png', details: { openid: `o-${subject}` } });

  before(async () => {
    t = await createTestApp();
    admin = await adminSession(t);
    const audit = new AuditLog(t.database);
    const findOrganization = (id: number) => t.database.db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
    registry = new SignInProviders({ database: t.database, audit, secret: TEST_SECRET, orgs: { findOrganization } });
    identities = new Identities({ database: t.database, audit });
  });
  after(() => t.close());

  it('sets a provider up: the secret is stored sealed, never answered, never audited, and settings() unseals it', async () => {
    const res = await as(admin, 'PUT', `${BASE}/wechat`, { app_id: 'wx1234567890', app_secret: SECRET, api_url: 'http://127.0.0.1:9/', extra: {} });
    assert.equal(res.statusCode, 200, res.body);
    const provider = res.json().provider;
    assert.deepEqual(
      [provider.name, provider.configured, provider.enabled, provider.app_id, provider.app_secret_set, provider.authorize_url, provider.api_url, provider.bound_organization_id],
      ['wechat', true, true, 'wx1234567890', true, null, 'http://127.0.0.1:9', null],
    );
    assert.ok(!res.body.includes(SECRET));

    const row = await storedRow('wechat');
    assert.ok(row && row.app_secret.length > 0);
    assert.ok(!JSON.stringify(row).includes(SECRET), 'the database holds no clear secret');

    const listed = await as(admin, 'GET', BASE);
    assert.equal(listed.statusCode, 200, listed.body);
    assert.deepEqual(listed.json().providers.map((p: { name: string }) => p.name), [...PROVIDER_NAMES], 'every known provider, in order');
    assert.ok(!listed.body.includes(SECRET) && !listed.body.includes(row.app_secret), 'neither the secret nor its sealed form is listed');
    assert.equal(listed.json().providers.find((p: { name: string }) => p.name === 'dingtalk').configured, false);

    const settings = await registry.settings('wechat');
    assert.equal(settings.appSecret, SECRET);
    assert.equal(settings.apiUrl, 'http://127.0.0.1:9');
    assert.equal(settings.enabled, true);
    // Sealed with another key, the stored value opens to nothing.
    const foreign = new SignInProviders({ database: t.database, audit: new AuditLog(t.database), secret: 'y'.repeat(40), orgs: { findOrganization: async () => undefined } });
    await assert.rejects(foreign.settings('wechat'));

    const events = await auditAbout('sign_in_provider:wechat');
    assert.deepEqual(events.map((e) => e.event), ['sign_in_provider.set']);
    assert.equal(events[0]!.actor, `user:${admin.userId}`);
    assert.equal(JSON.parse(events[0]!.detail!).app_secret_changed, true);
    const everything = JSON.stringify(await t.database.db.selectFrom('audit_events').selectAll().execute());
    assert.ok(!everything.includes(SECRET) && !everything.includes(row.app_secret), 'the secret is audited in no form');
  });

  it('keeps the stored secret when a change gives none, and replaces it when one is given', async () => {
    const before = (await storedRow('wechat'))!;
    const kept = await as(admin, 'PUT', `${BASE}/wechat`, { app_id: 'wx-renamed' });
    assert.equal(kept.statusCode, 200, kept.body);
    assert.equal((await storedRow('wechat'))!.app_secret, before.app_secret);
    assert.equal((await registry.settings('wechat')).appId, 'wx-renamed');
    assert.equal((await registry.settings('wechat')).apiUrl, null, 'a setting left out goes back to the default');
    assert.equal((await as(admin, 'PUT', `${BASE}/wechat`, { app_id: 'wx-renamed', app_secret: 'new-secret' })).statusCode, 200);
    assert.equal((await registry.settings('wechat')).appSecret, 'new-secret');
    const details = (await auditAbout('sign_in_provider:wechat')).map((e) => JSON.parse(e.detail!));
    assert.deepEqual(details.map((d) => [d.created, d.app_secret_changed]), [[true, true], [false, false], [false, true]]);
  });

  it('refuses unknown providers, a first setup without a secret, bad URLs and extras a provider does not take', async () => {
    refused(await as(admin, 'PUT', `${BASE}/qq`, { app_id: 'x', app_secret: 'y' }), 404, 'SIGN_IN_PROVIDER_NOT_FOUND', 'an unknown provider');
    refused(await as(admin, 'PUT', `${BASE}/feishu`, { app_id: 'cli_a' }), 400, 'INVALID_SIGN_IN_PROVIDER_SETTINGS', 'no secret the first time');
    for (const url of ['http://open.feishu.cn', 'ftp://open.feishu.cn', 'open.feishu.cn', 'https://user:pw@open.feishu.cn', 'https://open.feishu.cn/?x=1', 'javascript:alert(1)']) {
      const error = refused(await as(admin, 'PUT', `${BASE}/feishu`, { app_id: 'cli_a', app_secret: 's', authorize_url: url }), 400, 'INVALID_SIGN_IN_PROVIDER_SETTINGS', url);
      assert.equal(error.field, 'authorize_url', url);
    }
    refused(await as(admin, 'PUT', `${BASE}/feishu`, { app_id: 'cli_a', app_secret: 's', extra: { agent_id: '1' } }), 400, 'INVALID_SIGN_IN_PROVIDER_SETTINGS', 'feishu takes no extras');
    refused(await as(admin, 'PUT', `${BASE}/wecom`, { app_id: 'ww-corp', app_secret: 's' }), 400, 'INVALID_SIGN_IN_PROVIDER_SETTINGS', 'wecom needs agent_id');
    refused(await as(admin, 'PUT', `${BASE}/wecom`, { app_id: 'ww-corp', app_secret: 's', extra: { agent_id: '1000002', scopes: 'x' } }), 400, 'INVALID_SIGN_IN_PROVIDER_SETTINGS', 'wecom takes no scopes');
    refused(await as(admin, 'PUT', `${BASE}/wechat_mp`, { app_id: 'wx-mp', app_secret: 's', extra: { scope: 'snsapi_login' } }), 400, 'INVALID_SIGN_IN_PROVIDER_SETTINGS', 'an Official Account has no snsapi_login');
    refused(await as(admin, 'PUT', `${BASE}/oidc`, { app_id: 'gatehouse', app_secret: 's', extra: { scopes: 'openid' } }), 400, 'INVALID_SIGN_IN_PROVIDER_SETTINGS', 'oidc needs an issuer');
    refused(await as(admin, 'PUT', `${BASE}/oidc`, { app_id: 'gatehouse', app_secret: 's', extra: { issuer: 'http://idp.example.edu' } }), 400, 'INVALID_SIGN_IN_PROVIDER_SETTINGS', 'an http issuer');
    refused(await as(admin, 'PUT', `${BASE}/dingtalk`, { app_id: 'ding', app_secret: 's', bound_organization_id: 999_999 }), 404, 'ORGANIZATION_NOT_FOUND', 'a bound organization that does not exist');
    for (const name of ['feishu', 'oidc', 'dingtalk', 'wechat_mp']) assert.equal(await storedRow(name), undefined, `${name} was not stored`);

    const wecom = await as(admin, 'PUT', `${BASE}/wecom`, { app_id: 'ww-corp', app_secret: 's', extra: { agent_id: ' 1000002 ' }, bound_organization_id: 1 });
    assert.equal(wecom.statusCode, 200, wecom.body);
    assert.deepEqual([wecom.json().provider.extra, wecom.json().provider.bound_organization_id], [{ agent_id: '1000002' }, 1]);
    const oidc = await as(admin, 'PUT', `${BASE}/oidc`, { app_id: 'gatehouse', app_secret: 's', extra: { issuer: 'https://idp.example.edu/realms/school', scopes: 'openid profile' } });
    assert.equal(oidc.statusCode, 200, oidc.body);
    assert.equal((await registry.settings('oidc')).extra.issuer, 'https://idp.example.edu/realms/school');
    await assert.rejects(registry.settings('feishu'), (error: { code?: string }) => error.code === 'SIGN_IN_PROVIDER_NOT_FOUND');
  });

  it('disables and enables providers, audited; the login page offers the enabled ones', async () => {
    const offered = async () => (await as(undefined, 'GET', '/api/auth/providers')).json().providers.map((p: { name: string }) => p.name);
    assert.deepEqual(await offered(), ['wechat', 'wecom', 'oidc']);
    const disabled = await as(admin, 'POST', `${BASE}/wecom/disable`);
    assert.equal(disabled.statusCode, 200, disabled.body);
    assert.equal(disabled.json().provider.enabled, false);
    assert.deepEqual(await offered(), ['wechat', 'oidc'], 'this process shows its own change at once');
    assert.equal((await registry.settings('wecom')).enabled, false);
    assert.equal((await as(admin, 'POST', `${BASE}/wecom/enable`)).json().provider.enabled, true);
    assert.deepEqual(await offered(), ['wechat', 'wecom', 'oidc']);
    assert.deepEqual((await auditAbout('sign_in_provider:wecom')).map((e) => e.event), ['sign_in_provider.set', 'sign_in_provider.disabled', 'sign_in_provider.enabled']);
    refused(await as(admin, 'POST', `${BASE}/feishu/disable`), 404, 'SIGN_IN_PROVIDER_NOT_FOUND', 'disabling one never set up');
    refused(await as(admin, 'POST', `${BASE}/nope/enable`), 404, 'SIGN_IN_PROVIDER_NOT_FOUND', 'an unknown one');
  });

  it('lets nobody but platform administrators reach providers, and asks for a re-authentication to set one (API keys are never asked)', async () => {
    const user = await member();
    const orgAdmin = await adminSession(t, { role: 'org_admin' });
    const attempts: Array<[string, string, unknown?]> = [
      ['GET', BASE],
      ['PUT', `${BASE}/feishu`, { app_id: 'cli_a', app_secret: 's' }],
      ['POST', `${BASE}/wechat/disable`],
      ['POST', `${BASE}/wechat/enable`],
    ];
    for (const [method, path, payload] of attempts) {
      refused(await as(user, method, path, payload), 403, 'FORBIDDEN', `a user: ${method} ${path}`);
      refused(await as(orgAdmin, method, path, payload), 403, 'FORBIDDEN', `an organization administrator: ${method} ${path}`);
      refused(await as(undefined, method, path, payload), 401, 'UNAUTHENTICATED', `nobody: ${method} ${path}`);
    }
    assert.equal(await storedRow('feishu'), undefined);

    const stale = await adminSession(t);
    const longAgo = Date.now() - 3_600_000;
    await t.database.db.updateTable('sessions').set({ password_at: longAgo, second_factor_at: longAgo }).where('user_id', '=', stale.userId).execute();
    refused(await as(stale, 'PUT', `${BASE}/feishu`, { app_id: 'cli_a', app_secret: 's' }), 401, 'REAUTHENTICATION_REQUIRED', 'setting a provider in a stale session');
    assert.equal(await storedRow('feishu'), undefined);
    assert.equal((await as(stale, 'GET', BASE)).statusCode, 200);
    assert.equal((await as(stale, 'POST', `${BASE}/wechat/disable`)).statusCode, 200);
    assert.equal((await as(stale, 'POST', `${BASE}/wechat/enable`)).statusCode, 200);
    const key = await createApiKey(t, admin.cookie, ['admin']);
    const byKey = await t.app.inject({ method: 'PUT', url: `${BASE}/feishu`, headers: { authorization: `Bearer ${key.key}` }, payload: { app_id: 'cli_a', app_secret: 's' } });
    assert.equal(byKey.statusCode, 200, byKey.body);
    assert.equal((await auditAbout('sign_in_provider:feishu')).at(-1)?.actor, `apikey:${key.prefix}`);
    await assert.rejects(registry.set({ kind: 'user', userId: orgAdmin.userId, role: 'org_admin', organizationId: 1, ip: '127.0.0.1' }, 'feishu', { appId: 'x' }), (error: { code?: string }) => error.code === 'FORBIDDEN');
  });

  it('links an identity once: again to the same account is the same link, to another account IDENTITY_TAKEN', async () => {
    const owner = await member();
    const other = await member();
    const linked = await identities.link(undefined, owner.userId, wechat('union-1'));
    assert.equal((await identities.find('wechat', 'union-1'))?.userId, owner.userId);
    assert.equal((await identities.link(undefined, owner.userId, wechat('union-1'))).id, linked.id);
    await assert.rejects(identities.link(undefined, other.userId, wechat('union-1')), (error: { code?: string }) => error.code === 'IDENTITY_TAKEN');
    // Inside a caller's transaction too (a registration and its first identity commit together).
    await assert.rejects(
      t.database.write((trx) => identities.link(trx, other.userId, wechat('union-1'))),
      (error: { code?: string }) => error.code === 'IDENTITY_TAKEN',
    );
    await t.database.write((trx) => identities.link(trx, other.userId, wechat('union-2')));
    assert.equal((await identities.find('wechat', 'union-2'))?.userId, other.userId);
    assert.equal(await identities.find('wecom', 'union-1'), undefined, 'a subject is per provider');
    assert.deepEqual((await auditAbout(`user:${owner.userId}`)).filter((e) => e.event === 'identity.linked').length, 1, 'linked once, audited once');

    await identities.touch(linked.id);
    const mine = await as(owner, 'GET', '/api/account/identities');
    assert.equal(mine.statusCode, 200, mine.body);
    assert.deepEqual(mine.json().identities.map((i: { subject: string; details: unknown }) => [i.subject, i.details]), [['union-1', { openid: 'o-union-1' }]]);
    assert.ok(mine.json().identities[0].last_sign_in_at !== null, 'touch() noted the sign-in');
  });

  it('unlinks an identity of one\'s own, never another\'s, and never the last way to sign in', async () => {
    const owner = await member();
    const stranger = await member();
    const first = await identities.link(undefined, owner.userId, wechat('unlink-1'));
    const second = await identities.link(undefined, owner.userId, { provider: 'dingtalk', subject: 'ding-union-1', displayName: null, avatarUrl: null, details: {} });
    const strangers = await identities.link(undefined, stranger.userId, wechat('unlink-2'));

    refused(await as(owner, 'DELETE', `/api/account/identities/${strangers.id}`), 404, 'IDENTITY_NOT_FOUND', "another's identity");
    assert.equal((await identities.find('wechat', 'unlink-2'))?.userId, stranger.userId);
    refused(await as(undefined, 'DELETE', `/api/account/identities/${first.id}`), 401, 'UNAUTHENTICATED', 'nobody signed in');

    // Without a password, the last identity is the only way in.
    await t.database.db.updateTable('users').set({ password_hash: null }).where('id', '=', owner.userId).execute();
    const removed = await as(owner, 'DELETE', `/api/account/identities/${first.id}`);
    assert.equal(removed.statusCode, 204, removed.body);
    refused(await as(owner, 'DELETE', `/api/account/identities/${second.id}`), 409, 'LAST_SIGN_IN_METHOD', 'the last way to sign in');
    assert.equal((await identities.listFor(owner.userId)).length, 1);

    // With a password, the last identity may go.
    assert.equal((await as(stranger, 'DELETE', `/api/account/identities/${strangers.id}`)).statusCode, 204);
    assert.deepEqual(await identities.listFor(stranger.userId), []);

    const unlinked = (await auditAbout(`user:${owner.userId}`)).filter((e) => e.event === 'identity.unlinked');
    assert.equal(unlinked.length, 1);
    assert.equal(unlinked[0]!.actor, `user:${owner.userId}`);
    assert.equal(JSON.parse(unlinked[0]!.detail!).identity_id, first.id);
    await assert.rejects(identities.unlink(OPERATOR, owner.userId, 999_999), (error: { code?: string }) => error.code === 'IDENTITY_NOT_FOUND');
  });

  it("shows a user's identities to administrators: an organization administrator only their own organization's", async () => {
    const created = await as(admin, 'POST', '/api/admin/organizations', { name: '别的学校' });
    assert.equal(created.statusCode, 201, created.body);
    const otherCode = created.json().invitation.invitation_code as string;
    const inOwn = await member();
    const elsewhereRes = await register(t, { phone: uniquePhone(), invitation_code: otherCode });
    const elsewhere = elsewhereRes.json().user.id as number;
    await identities.link(undefined, inOwn.userId, wechat('admin-view-1'));
    await identities.link(undefined, elsewhere, wechat('admin-view-2'));
    const orgAdmin = await adminSession(t, { role: 'org_admin' });

    const platformView = await as(admin, 'GET', `/api/admin/users/${elsewhere}/identities`);
    assert.equal(platformView.statusCode, 200, platformView.body);
    assert.deepEqual(platformView.json().identities.map((i: { subject: string }) => i.subject), ['admin-view-2']);
    const ownView = await as(orgAdmin, 'GET', `/api/admin/users/${inOwn.userId}/identities`);
    assert.equal(ownView.statusCode, 200, ownView.body);
    assert.deepEqual(ownView.json().identities.map((i: { subject: string }) => i.subject), ['admin-view-1']);
    refused(await as(orgAdmin, 'GET', `/api/admin/users/${elsewhere}/identities`), 403, 'OUTSIDE_ORGANIZATION', "another organization's member");
    refused(await as(inOwn, 'GET', `/api/admin/users/${inOwn.userId}/identities`), 403, 'FORBIDDEN', 'an ordinary member');
    refused(await as(admin, 'GET', '/api/admin/users/999999/identities'), 404, 'NOT_FOUND', 'nobody');
  });
});

// The same services on SQLite and on PostgreSQL: the statements (an upsert, a unique key, counts
// PostgreSQL answers as text) and the foreign keys (an account's identities go with it; a deleted
// organization's binding is lifted) behave alike.
const backends = bothBackends('federation');

for (const backend of backends) {
  describe(`sign-in providers and identities on ${backend.name}`, { skip: await unmet(...(backend.needs ?? [])) }, () => {
    let database: Database;
    let close: () => Promise<void>;
    let registry: SignInProviders;
    let identities: Identities;
    let orgs: OrgService;
    let school: number;
    let people = 0;

    async function account(organizationId: number, password: string | null = 'hash'): Promise<number> {
      const now = Date.now();
      people++;
      const row = await database.db
        .insertInto('users')
        .values({ organization_id: organizationId, phone: `+861390000${String(people).padStart(4, '0')}`, name: '老师', password_hash: password, role: 'user', status: 'active', created_at: now, updated_at: now, subject: `subject-${backend.name}-${people}` })
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    }

    before(async () => {
      ({ database, close } = await backend.open());
      await migrateToLatest(database.db);
      orgs = new OrgService(database);
      school = (await orgs.createOrganization('一中')).organization.id;
      const audit = new AuditLog(database);
      registry = new SignInProviders({ database, audit, secret: TEST_SECRET, orgs });
      identities = new Identities({ database, audit });
    });
    after(() => close());

    it('sets, replaces, lists and unseals a provider; enabled() follows enable and disable', async () => {
      const first = await registry.set(OPERATOR, 'dingtalk', { appId: 'ding-1', appSecret: 'ding-secret', boundOrganizationId: school });
      assert.deepEqual([first.configured, first.enabled, first.boundOrganizationId, typeof first.createdAt], [true, true, school, 'number']);
      const again = await registry.set(OPERATOR, 'dingtalk', { appId: 'ding-2', apiUrl: 'https://api.dingtalk.example/' });
      assert.equal(again.createdAt, first.createdAt, 'a change keeps the creation time');
      assert.equal(again.boundOrganizationId, null);
      const settings = await registry.settings('dingtalk');
      assert.deepEqual([settings.appId, settings.appSecret, settings.apiUrl], ['ding-2', 'ding-secret', 'https://api.dingtalk.example']);
      assert.deepEqual(await registry.enabled(), ['dingtalk']);
      await registry.disable(OPERATOR, 'dingtalk');
      assert.deepEqual(await registry.enabled(), []);
      await registry.enable(OPERATOR, 'dingtalk');
      assert.deepEqual(await registry.enabled(), ['dingtalk']);
      assert.deepEqual((await registry.list()).filter((p) => p.configured).map((p) => p.name), ['dingtalk']);
    });

    it("lifts a provider's organization binding when the organization is deleted", async () => {
      const doomed = (await orgs.createOrganization('三中')).organization.id;
      await registry.set(OPERATOR, 'feishu', { appId: 'cli_1', appSecret: 's', boundOrganizationId: doomed });
      await database.write((trx) => trx.deleteFrom('invitation_codes').where('organization_id', '=', doomed).execute());
      await database.write((trx) => trx.deleteFrom('organizations').where('id', '=', doomed).execute());
      assert.equal((await registry.settings('feishu')).boundOrganizationId, null);
    });

    it('links, refuses another account, counts and unlinks; an account deleted takes its identities with it', async () => {
      const owner = await account(school, null);
      const other = await account(school);
      const linked = await identities.link(undefined, owner, { provider: 'feishu', subject: `${backend.name}-u1`, displayName: null, avatarUrl: null, details: { tenant: 't1' } });
      await assert.rejects(identities.link(undefined, other, { provider: 'feishu', subject: `${backend.name}-u1`, displayName: null, avatarUrl: null, details: {} }), (error: { code?: string }) => error.code === 'IDENTITY_TAKEN');
      await assert.rejects(
        database.write((trx) => identities.link(trx, other, { provider: 'feishu', subject: `${backend.name}-u1`, displayName: null, avatarUrl: null, details: {} })),
        (error: { code?: string }) => error.code === 'IDENTITY_TAKEN',
      );
      await assert.rejects(identities.unlink(OPERATOR, owner, linked.id), (error: { code?: string }) => error.code === 'LAST_SIGN_IN_METHOD');
      const second = await identities.link(undefined, owner, { provider: 'oidc', subject: `https://idp.example|${backend.name}`, displayName: '张', avatarUrl: null, details: {} });
      await identities.unlink(OPERATOR, owner, linked.id);
      assert.deepEqual((await identities.listFor(owner)).map((i) => i.id), [second.id]);
      await identities.touch(second.id);
      assert.equal(typeof (await identities.find('oidc', `https://idp.example|${backend.name}`))?.lastSignInAt, 'number');
      await database.write((trx) => trx.deleteFrom('users').where('id', '=', owner).execute());
      assert.equal(await identities.find('oidc', `https://idp.example|${backend.name}`), undefined);
    });

    it('two unlinks at once of the last two ways in: exactly one succeeds', async () => {
      for (let round = 0; round < 5; round++) {
        const owner = await account(school, null);
        const [a, b] = await Promise.all(
          ['dingtalk', 'feishu'].map((provider) => identities.link(undefined, owner, { provider: provider as 'dingtalk', subject: `${backend.name}-race-${round}-${provider}`, displayName: null, avatarUrl: null, details: {} })),
        );
        const outcomes = await Promise.allSettled([identities.unlink(OPERATOR, owner, a!.id), identities.unlink(OPERATOR, owner, b!.id)]);
        assert.deepEqual(outcomes.map((o) => o.status).sort(), ['fulfilled', 'rejected'], `round ${round}`);
        assert.equal((await identities.listFor(owner)).length, 1);
      }
    });
  });
}
