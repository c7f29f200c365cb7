// The OpenID Connect provider as relying parties use it: openid-client against a real listening
// server, a browser stand-in keeping cookies. One server for the file.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { adminSession, createTestApp, register, sessionCookie, TEST_PASSWORD, type TestApp } from '../helpers/app.js';
import { authorizationRequest, client, CookieJar, follow, relyingParty, signInSilently } from '../helpers/oidc.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const APP_CALLBACK = 'http://127.0.0.1:7/callback';

describe('OpenID Connect provider', () => {
  let t: TestApp;
  let issuer: string;
  let admin: { cookie: string };

  before(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    t = await createTestApp({ PUBLIC_URL: issuer, OIDC_REFRESH_TOKEN_REUSE_SECONDS: '1' });
    await t.app.listen({ port, host: '127.0.0.1' });
    admin = await adminSession(t);
  });
  after(() => t.close());

  async function newClient(body: Record<string, unknown>): Promise<{ client_id: string; client_secret: string | null }> {
    const res = await t.app.inject({ method: 'POST', url: '/api/admin/oidc/clients', headers: { cookie: admin.cookie }, payload: { name: 'Moodle', redirect_uris: [APP_CALLBACK], ...body } });
    assert.equal(res.statusCode, 201, res.body);
    return { client_id: res.json().client.client_id, client_secret: res.json().client_secret };
  }

  async function signedInUser(): Promise<{ jar: CookieJar; userId: number; phone: string; subject: string }> {
    const res = await register(t);
    assert.equal(res.statusCode, 201, res.body);
    const userId = res.json().user.id as number;
    const row = await t.database.db.selectFrom('users').select(['phone', 'subject']).where('id', '=', userId).executeTakeFirstOrThrow();
    return { jar: new CookieJar(sessionCookie(res)), userId, phone: row.phone, subject: row.subject };
  }

  it('publishes discovery with the issuer, S256 only, its scopes and a JWKS', async () => {
    const res = await fetch(`${issuer}/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
    const meta = (await res.json()) as Record<string, any>;
    assert.equal(meta.issuer, issuer);
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    for (const scope of ['openid', 'profile', 'phone', 'organization', 'offline_access']) assert.ok(meta.scopes_supported.includes(scope), scope);
    assert.ok(meta.end_session_endpoint && meta.introspection_endpoint && meta.revocation_endpoint && meta.userinfo_endpoint);
    const jwks = (await (await fetch(meta.jwks_uri)).json()) as { keys: Array<Record<string, unknown>> };
    assert.ok(jwks.keys.length >= 1);
    for (const key of jwks.keys) assert.equal(key.d, undefined, 'no private part is published');
  });

  it('signs a Gatehouse user in to a first-party app without a page, with an opaque sub and how they authenticated', async () => {
    const app = await newClient({ first_party: true });
    const user = await signedInUser();
    const rp = await relyingParty(issuer, app.client_id, app.client_secret, APP_CALLBACK);
    const { tokens } = await signInSilently(rp, user.jar, issuer, 'openid profile phone organization');
    const claims = tokens.claims()!;
    assert.equal(claims.sub, user.subject);
    assert.notEqual(claims.sub, user.phone);
    assert.notEqual(claims.sub, String(user.userId));
    assert.deepEqual(claims.amr, ['pwd']);
    assert.equal(claims.acr, 'urn:gatehouse:acr:1fa');
    const info = await client.fetchUserInfo(rp.config, tokens.access_token, user.subject);
    assert.equal(info.name, '张老师');
    assert.equal(info.phone_number, user.phone);
    assert.equal(info.phone_number_verified, false);
    assert.deepEqual(Object.keys(info.organization as object).sort(), ['id', 'name', 'role']);
  });
});
