// The client registry as the provider uses it (ClientLookup, ClientGrantRevoker), on SQLite and on
// PostgreSQL through the same code: what find() answers, which changes revoke a client's grants
// (disabling, deleting, shutting out organizations or roles) and which do not (rotating a secret),
// and that a deletion whose revocation fails leaves the client disabled, not half gone.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AuditLog } from '../../src/audit/service.js';
import type { Database } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { ClientRegistry } from '../../src/oidc/clients/service.js';
import type { ClientGrantRevoker } from '../../src/oidc/clients/types.js';
import { OrgService } from '../../src/orgs/service.js';
import { OPERATOR, type Principal } from '../../src/principal.js';
import { bothBackends } from '../helpers/postgres.js';
import { unmet } from '../helpers/requirements.js';

const backends = bothBackends('clients');

const CONTRACT_FIELDS = ['allowedOrganizationIds', 'allowedRoles', 'backchannelLogoutUri', 'clientId', 'createdAt', 'disabled', 'firstParty', 'grantTypes', 'name', 'postLogoutRedirectUris', 'redirectUris', 'secretHash', 'updatedAt'];
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The provider's side: records which clients it was told to revoke, and fails when told to. */
class RecordingRevoker implements ClientGrantRevoker {
  revoked: string[] = [];
  failing = false;
  async revokeClient(clientId: string): Promise<void> {
    if (this.failing) throw new Error('the grant store is down');
    this.revoked.push(clientId);
  }
}

for (const backend of backends) {
  describe(`the client registry on ${backend.name}`, { skip: await unmet(...(backend.needs ?? [])) }, () => {
    let database: Database;
    let close: () => Promise<void>;
    let registry: ClientRegistry;
    let grants: RecordingRevoker;
    let school: number;
    let otherSchool: number;

    const register = (extra: Partial<Parameters<ClientRegistry['create']>[1]> = {}) => registry.create(OPERATOR, { name: 'Learning platform', redirectUris: ['https://learn.school.example/cb'], ...extra });

    before(async () => {
      ({ database, close } = await backend.open());
      await migrateToLatest(database.db);
      const orgs = new OrgService(database);
      school = (await orgs.createOrganization('一中')).organization.id;
      otherSchool = (await orgs.createOrganization('二中')).organization.id;
      grants = new RecordingRevoker();
      registry = new ClientRegistry({ database, audit: new AuditLog(database), orgs, grants });
    });
    after(() => close());

    it('find() answers the contract: the client as registered, its secret as SHA-256, nothing else; undefined for an unknown id', async () => {
      const { client, secret } = await register({ postLogoutRedirectUris: ['https://learn.school.example/'], backchannelLogoutUri: 'https://learn.school.example/bcl', firstParty: true, allowedRoles: ['user'], allowedOrganizationIds: [otherSchool, school] });
      const found = await registry.find(client.clientId);
      assert.deepEqual(Object.keys(found!).sort(), CONTRACT_FIELDS);
      assert.deepEqual(found, {
        clientId: client.clientId,
        name: 'Learning platform',
        secretHash: sha256(secret!),
        redirectUris: ['https://learn.school.example/cb'],
        postLogoutRedirectUris: ['https://learn.school.example/'],
        backchannelLogoutUri: 'https://learn.school.example/bcl',
        firstParty: true,
        grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
        allowedOrganizationIds: [school, otherSchool].sort((a, b) => a - b),
        allowedRoles: ['user'],
        disabled: false,
        createdAt: client.createdAt,
        updatedAt: client.updatedAt,
      });
      assert.equal(typeof found!.createdAt, 'number');
      assert.equal(await registry.find('gtc_aaaaaaaaaaaaaaaaaaaaaaaa'), undefined);
      assert.equal(await registry.find(''), undefined);
      assert.equal(await registry.find("gtc_' OR 1=1 --"), undefined);
      assert.equal((await registry.show(client.clientId)).createdBy, 'cli', 'the operator at the command line');
    });

    it('a public client has no secret, and no client credentials', async () => {
      const { client, secret } = await register({ public: true });
      assert.equal(secret, null);
      const found = await registry.find(client.clientId);
      assert.equal(found?.secretHash, null);
      assert.deepEqual(found?.grantTypes, ['authorization_code', 'refresh_token']);
    });

    it('disabling revokes the grants and find() says disabled; enabling lets it in again without revoking', async () => {
      const { client } = await register();
      grants.revoked = [];
      await registry.disable(OPERATOR, client.clientId);
      assert.deepEqual(grants.revoked, [client.clientId]);
      assert.equal((await registry.find(client.clientId))?.disabled, true);
      const firstDisabledAt = (await registry.show(client.clientId)).disabledAt;
      await registry.disable(OPERATOR, client.clientId);
      assert.deepEqual(grants.revoked, [client.clientId, client.clientId], 'disabling again revokes again');
      assert.equal((await registry.show(client.clientId)).disabledAt, firstDisabledAt, 'and keeps when it was first disabled');
      await registry.enable(OPERATOR, client.clientId);
      assert.equal((await registry.find(client.clientId))?.disabled, false);
      assert.equal(grants.revoked.length, 2);
    });

    it('rotating a secret keeps the grants: the stored hash is the new secret\'s, no longer the old one\'s', async () => {
      const { client, secret: old } = await register();
      grants.revoked = [];
      const { secret } = await registry.rotateSecret(OPERATOR, client.clientId);
      assert.notEqual(secret, old);
      assert.equal((await registry.find(client.clientId))?.secretHash, sha256(secret!));
      assert.deepEqual(grants.revoked, []);
    });

    it('shutting out organizations or roles revokes the grants; lifting a limit or another change does not', async () => {
      const { client } = await register({ allowedOrganizationIds: [school, otherSchool], allowedRoles: ['user', 'org_admin'] });
      const id = client.clientId;
      grants.revoked = [];
      await registry.update(OPERATOR, id, { name: 'Renamed', redirectUris: ['https://learn.school.example/cb2'], firstParty: true });
      await registry.update(OPERATOR, id, { allowedRoles: ['user', 'org_admin', 'admin'] });
      await registry.update(OPERATOR, id, { allowedOrganizationIds: null });
      assert.deepEqual(grants.revoked, [], 'nobody who was let in is shut out');
      await registry.update(OPERATOR, id, { allowedOrganizationIds: [school] });
      assert.deepEqual(grants.revoked, [id], 'every organization → one');
      await registry.update(OPERATOR, id, { allowedRoles: ['admin'] });
      assert.deepEqual(grants.revoked, [id, id], 'fewer roles');
      const now = await registry.find(id);
      assert.deepEqual([now?.name, now?.redirectUris, now?.firstParty, now?.allowedOrganizationIds, now?.allowedRoles], ['Renamed', ['https://learn.school.example/cb2'], true, [school], ['admin']]);
      const before = await registry.show(id);
      assert.deepEqual(await registry.update(OPERATOR, id, { name: 'Renamed', allowedRoles: ['admin'] }), before, 'nothing changed: nothing written');
    });

    it('deleting revokes the grants first; when revoking fails the client stays, disabled, until the deletion is tried again', async () => {
      const { client } = await register();
      grants.revoked = [];
      grants.failing = true;
      await assert.rejects(registry.delete(OPERATOR, client.clientId), /grant store is down/);
      assert.equal((await registry.find(client.clientId))?.disabled, true, 'refused meanwhile');
      const events = await database.db.selectFrom('audit_events').select(['event', 'detail']).where('target', '=', `oidc_client:${client.clientId}`).orderBy('id').execute();
      assert.deepEqual(events.map((e) => [e.event, e.detail && JSON.parse(e.detail).reason]), [['oidc_client.created', undefined], ['oidc_client.disabled', 'deletion_incomplete']], 'the change that did happen is audited');
      grants.failing = false;
      await registry.delete(OPERATOR, client.clientId);
      assert.deepEqual(grants.revoked, [client.clientId]);
      assert.equal(await registry.find(client.clientId), undefined);
      await assert.rejects(registry.show(client.clientId), { code: 'CLIENT_NOT_FOUND' });
    });

    it('only a platform administrator changes the registry', async () => {
      const { client } = await register();
      const orgAdmin: Principal = { kind: 'user', userId: 1, role: 'org_admin', organizationId: school, ip: '127.0.0.1' };
      await assert.rejects(registry.create(orgAdmin, { name: 'x', redirectUris: ['https://x.example/cb'] }), { code: 'FORBIDDEN' });
      for (const action of [
        () => registry.update(orgAdmin, client.clientId, { name: 'x' }),
        () => registry.rotateSecret(orgAdmin, client.clientId),
        () => registry.disable(orgAdmin, client.clientId),
        () => registry.enable(orgAdmin, client.clientId),
        () => registry.delete(orgAdmin, client.clientId),
      ]) {
        await assert.rejects(action(), { code: 'FORBIDDEN' });
      }
      assert.equal((await registry.find(client.clientId))?.disabled, false);
    });
  });
}
