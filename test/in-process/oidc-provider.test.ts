// The OpenID Connect provider as relying parties use it: openid-client against a real listening
// server, a browser stand-in keeping cookies. One server for the file.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminSession, register, sessionCookie, type TestApp } from '../helpers/app.js';
import { authorizationRequest, client, CookieJar, follow, listeningTestApp, relyingParty, signInSilently } from '../helpers/oidc.js';

const APP_CALLBACK = 'http://127.0.0.1:7/callback';

describe('OpenID Connect provider', () => {
  let t: TestApp;
  let issuer: string;
  let admin: { cookie: string };

  before(async () => {
    ({ t, issuer } = await listeningTestApp({ OIDC_REFRESH_TOKEN_REUSE_SECONDS: '1', OIDC_KEY_REFRESH_SECONDS: '1' }));
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
    // Only what works is advertised: the code flow, secrets or PKCE, no pushed requests.
    assert.deepEqual(meta.response_types_supported, ['code']);
    assert.deepEqual([...meta.token_endpoint_auth_methods_supported].sort(), ['client_secret_basic', 'client_secret_post', 'none']);
    assert.equal(meta.pushed_authorization_request_endpoint, undefined);
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

  it("asks a third-party app's consent on the consent page once, lists it under connected apps, and disconnecting revokes its tokens", async () => {
    const app = await newClient({ name: 'Quiz site', first_party: false });
    const user = await signedInUser();
    const rp = await relyingParty(issuer, app.client_id, app.client_secret, APP_CALLBACK);
    const request = await authorizationRequest(rp, 'openid profile offline_access', { prompt: 'consent' });
    const atConsent = await follow(request.url, user.jar, issuer);
    assert.match(new URL(atConsent.url).pathname, /^\/interaction\/[\w-]+$/);
    assert.equal(atConsent.response!.status, 200);
    const details = await fetch(`${atConsent.url}/details`, { headers: { cookie: user.jar.header() } });
    assert.equal(details.status, 200);
    const asked = (await details.json()) as { client: { name: string }; scopes: string[] };
    assert.equal(asked.client.name, 'Quiz site');
    assert.deepEqual(asked.scopes.sort(), ['offline_access', 'openid', 'profile']);
    const allowed = await fetch(`${atConsent.url}/consent`, { method: 'POST', headers: { cookie: user.jar.header(), 'content-type': 'application/json' }, body: JSON.stringify({ allow: true }) });
    assert.equal(allowed.status, 200);
    const back = await follow(((await allowed.json()) as { redirect_to: string }).redirect_to, user.jar, issuer);
    const tokens = await client.authorizationCodeGrant(rp.config, new URL(back.url), { pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce });
    assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');

    // Consent is remembered: the next sign-in needs no page.
    await signInSilently(rp, user.jar, issuer, 'openid profile');

    const listed = await fetch(`${issuer}/api/account/connected-apps`, { headers: { cookie: user.jar.header() } });
    const apps = ((await listed.json()) as { apps: Array<{ client_id: string; name: string; scopes: string[] }> }).apps;
    assert.deepEqual(apps.map((a) => [a.client_id, a.name]), [[app.client_id, 'Quiz site']]);
    assert.ok(apps[0]!.scopes.includes('offline_access'));

    const gone = await fetch(`${issuer}/api/account/connected-apps/${app.client_id}`, { method: 'DELETE', headers: { cookie: user.jar.header() } });
    assert.equal(gone.status, 204);
    await assert.rejects(client.refreshTokenGrant(rp.config, tokens.refresh_token!), (error: any) => error.error === 'invalid_grant');
    await assert.rejects(client.fetchUserInfo(rp.config, tokens.access_token, user.subject));
  });

  it('a denied consent returns access_denied to the app', async () => {
    const app = await newClient({ name: 'Ads', first_party: false });
    const user = await signedInUser();
    const rp = await relyingParty(issuer, app.client_id, app.client_secret, APP_CALLBACK);
    const request = await authorizationRequest(rp, 'openid');
    const atConsent = await follow(request.url, user.jar, issuer);
    const denied = await fetch(`${atConsent.url}/consent`, { method: 'POST', headers: { cookie: user.jar.header(), 'content-type': 'application/json' }, body: JSON.stringify({ allow: false }) });
    const back = await follow(((await denied.json()) as { redirect_to: string }).redirect_to, user.jar, issuer);
    const params = new URL(back.url).searchParams;
    assert.equal(params.get('error'), 'access_denied');
    assert.equal(params.get('state'), request.state);
  });

  it('sends a visitor without a Gatehouse session to the login page, which returns to the request', async () => {
    const app = await newClient({ first_party: true });
    const rp = await relyingParty(issuer, app.client_id, app.client_secret, APP_CALLBACK);
    const request = await authorizationRequest(rp, 'openid');
    const jar = new CookieJar();
    const landed = await follow(request.url, jar, issuer);
    const url = new URL(landed.url);
    assert.equal(url.pathname, '/login');
    assert.match(url.searchParams.get('return_to')!, /^\/interaction\/[\w-]+$/);
  });

  it('refuses bad requests with the right OAuth error, never a 5xx', async () => {
    const confidential = await newClient({ first_party: true });
    const publicApp = await newClient({ first_party: true, public: true });
    const user = await signedInUser();
    const authorize = (params: Record<string, string>) => fetch(`${issuer}/oidc/auth?${new URLSearchParams(params)}`, { redirect: 'manual', headers: { cookie: user.jar.header() } });

    // A redirect URI that is not registered exactly: an error page, never a redirect there.
    const wrongUri = await authorize({ client_id: confidential.client_id, response_type: 'code', scope: 'openid', redirect_uri: `${APP_CALLBACK}/x` });
    assert.equal(wrongUri.status, 400);
    assert.equal(wrongUri.headers.get('location'), null);
    assert.match(await wrongUri.text(), /redirect_uri/);
    // Unknown client: the same.
    const unknown = await authorize({ client_id: 'nobody', response_type: 'code', scope: 'openid', redirect_uri: APP_CALLBACK });
    assert.equal(unknown.status, 400);
    assert.match(await unknown.text(), /invalid_client/);
    // A public client without PKCE, or with plain PKCE: invalid_request back at the app.
    for (const pkce of [{}, { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }] as Array<Record<string, string>>) {
      const res = await authorize({ client_id: publicApp.client_id, response_type: 'code', scope: 'openid', redirect_uri: APP_CALLBACK, state: 's1', ...pkce });
      assert.equal(res.status, 303);
      const location = new URL(res.headers.get('location')!);
      assert.equal(location.origin + location.pathname, APP_CALLBACK);
      assert.equal(location.searchParams.get('error'), 'invalid_request');
    }

    // A code is used once; a replay is invalid_grant (and revokes what the first use issued).
    const rp = await relyingParty(issuer, confidential.client_id, confidential.client_secret, APP_CALLBACK);
    const request = await authorizationRequest(rp, 'openid offline_access', { prompt: 'consent' });
    const { url } = await follow(request.url, user.jar, issuer);
    const checks = { pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce };
    const first = await client.authorizationCodeGrant(rp.config, new URL(url), checks);
    await assert.rejects(client.authorizationCodeGrant(rp.config, new URL(url), checks), (error: any) => error.error === 'invalid_grant');
    await assert.rejects(client.fetchUserInfo(rp.config, first.access_token, user.subject));

    // A wrong client secret: invalid_client (401).
    const token = await fetch(`${issuer}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${confidential.client_id}:wrong`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    assert.equal(token.status, 401);
    assert.equal(((await token.json()) as { error: string }).error, 'invalid_client');
  });

  it('an expired code is invalid_grant', async () => {
    const app = await newClient({ first_party: true });
    const user = await signedInUser();
    const rp = await relyingParty(issuer, app.client_id, app.client_secret, APP_CALLBACK);
    const request = await authorizationRequest(rp, 'openid');
    const { url } = await follow(request.url, user.jar, issuer);
    const code = new URL(url).searchParams.get('code')!;
    // The shared store forgets the code when its 60 seconds are over; here it is forgotten now.
    const keys = await t.kv.get(`oidc:AuthorizationCode:${code}`);
    assert.ok(keys, 'the code is kept in the shared store');
    await t.kv.delete(`oidc:AuthorizationCode:${code}`);
    await assert.rejects(client.authorizationCodeGrant(rp.config, new URL(url), { pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce }), (error: any) => error.error === 'invalid_grant');
  });

  it('rotates refresh tokens: two parallel refreshes both succeed; reuse after the window revokes the family', async () => {
    const app = await newClient({ first_party: true });
    const user = await signedInUser();
    const rp = await relyingParty(issuer, app.client_id, app.client_secret, APP_CALLBACK);
    const { tokens } = await signInSilently(rp, user.jar, issuer, 'openid offline_access');
    const original = tokens.refresh_token!;
    const [a, b] = await Promise.all([client.refreshTokenGrant(rp.config, original), client.refreshTokenGrant(rp.config, original)]);
    assert.ok(a.refresh_token && b.refresh_token);
    assert.notEqual(a.refresh_token, original);
    // Past the reuse window (1 s here), the rotated token's reuse is theft: the whole grant goes.
    await new Promise((resolve) => setTimeout(resolve, 1300));
    await assert.rejects(client.refreshTokenGrant(rp.config, original), (error: any) => error.error === 'invalid_grant');
    await assert.rejects(client.refreshTokenGrant(rp.config, a.refresh_token!), (error: any) => error.error === 'invalid_grant');
    await assert.rejects(client.refreshTokenGrant(rp.config, b.refresh_token!), (error: any) => error.error === 'invalid_grant');
  });

  it("a disabled user's tokens stop working at once", async () => {
    const app = await newClient({ first_party: true });
    const user = await signedInUser();
    const rp = await relyingParty(issuer, app.client_id, app.client_secret, APP_CALLBACK);
    const { tokens } = await signInSilently(rp, user.jar, issuer, 'openid offline_access');
    await client.fetchUserInfo(rp.config, tokens.access_token, user.subject);
    const disabled = await t.app.inject({ method: 'POST', url: `/api/admin/users/${user.userId}/disable`, headers: { cookie: admin.cookie } });
    assert.equal(disabled.statusCode, 200, disabled.body);
    await assert.rejects(client.fetchUserInfo(rp.config, tokens.access_token, user.subject));
    await assert.rejects(client.refreshTokenGrant(rp.config, tokens.refresh_token!), (error: any) => error.error === 'invalid_grant');
    const introspected = await client.tokenIntrospection(rp.config, tokens.access_token);
    assert.equal(introspected.active, false);
  });

  it('gives machine clients tokens by client credentials, which introspection and revocation know', async () => {
    const app = await newClient({ first_party: true });
    const rp = await relyingParty(issuer, app.client_id, app.client_secret, APP_CALLBACK);
    const tokens = await client.clientCredentialsGrant(rp.config, {});
    const active = await client.tokenIntrospection(rp.config, tokens.access_token);
    assert.equal(active.active, true);
    assert.equal(active.client_id, app.client_id);
    await client.tokenRevocation(rp.config, tokens.access_token);
    assert.equal((await client.tokenIntrospection(rp.config, tokens.access_token)).active, false);
  });

  it('RP-initiated logout ends the Gatehouse session and returns to a registered post-logout URI', async () => {
    const postLogout = 'http://127.0.0.1:7/signed-out';
    const app = await newClient({ first_party: true, post_logout_redirect_uris: [postLogout] });
    const user = await signedInUser();
    const rp = await relyingParty(issuer, app.client_id, app.client_secret, APP_CALLBACK);
    const { tokens } = await signInSilently(rp, user.jar, issuer);
    const logoutUrl = client.buildEndSessionUrl(rp.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: postLogout, state: 'bye' });
    const page = await fetch(logoutUrl, { headers: { cookie: user.jar.header() } });
    user.jar.take(page);
    const html = await page.text();
    const action = /action="([^"]+)"/.exec(html)![1]!;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
    const confirmed = await fetch(new URL(action, issuer), { method: 'POST', redirect: 'manual', headers: { cookie: user.jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ xsrf, logout: 'yes' }) });
    assert.equal(confirmed.status, 303);
    assert.equal(confirmed.headers.get('location'), `${postLogout}?state=bye`);
    user.jar.take(confirmed);
    const me = await fetch(`${issuer}/api/auth/me`, { headers: { cookie: user.jar.header() } });
    assert.equal(me.status, 401, 'the Gatehouse session ended too');
  });

  it('a key rotation is published before it signs, and the old key stays published for its grace period', async () => {
    // Long enough that a loaded machine still signs in once before it (the sign-in is a few round trips).
    const ACTIVATE_IN_S = 5;
    const app = await newClient({ first_party: true });
    const user = await signedInUser();
    const rp = await relyingParty(issuer, app.client_id, app.client_secret, APP_CALLBACK);
    const kidOf = (jwt: string) => (JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
    const published = async () => ((await (await fetch(`${issuer}/oidc/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
    const before = kidOf((await signInSilently(rp, user.jar, issuer)).tokens.id_token!);

    const rotatedAt = Date.now();
    const rotated = await t.app.inject({ method: 'POST', url: '/api/admin/oidc/keys/rotate', headers: { cookie: admin.cookie }, payload: { activate_in_seconds: ACTIVATE_IN_S, retire_after_seconds: 3600 } });
    assert.equal(rotated.statusCode, 201, rotated.body);
    const next = rotated.json().key.kid as string;
    // Every process re-reads the keys each second here: published within a refresh or two, not yet signing.
    for (let i = 0; i < 30 && !(await published()).includes(next); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual((await published()).sort(), [before, next].sort());
    assert.ok(Date.now() - rotatedAt < ACTIVATE_IN_S * 1000 - 1000, 'this machine is too slow to see the key before it signs');
    assert.equal(kidOf((await signInSilently(rp, user.jar, issuer)).tokens.id_token!), before);
    // Past its activation (and the next refresh): it signs, and the old key is still published for tokens it signed.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, rotatedAt + ACTIVATE_IN_S * 1000 + 1200 - Date.now())));
    const signedNow = kidOf((await signInSilently(rp, user.jar, issuer)).tokens.id_token!);
    assert.equal(signedNow, next);
    assert.ok((await published()).includes(before));
    const audit = await t.database.db.selectFrom('audit_events').select(['event', 'target']).where('event', '=', 'oidc.keys_rotated').execute();
    assert.deepEqual(audit.map((a) => a.target), [`key:${next}`]);
  });

  it('leaving the organization or a forced password reset revokes the apps; a client limited to a role refuses others', async () => {
    const app = await newClient({ first_party: true });
    const rp = await relyingParty(issuer, app.client_id, app.client_secret, APP_CALLBACK);
    const org = await t.app.inject({ method: 'POST', url: '/api/admin/organizations', headers: { cookie: admin.cookie }, payload: { name: 'Other school' } });
    assert.equal(org.statusCode, 201, org.body);
    const mover = await signedInUser();
    const moved = (await signInSilently(rp, mover.jar, issuer, 'openid offline_access')).tokens;
    const move = await t.app.inject({ method: 'PATCH', url: `/api/admin/users/${mover.userId}`, headers: { cookie: admin.cookie }, payload: { organization_id: org.json().organization.id } });
    assert.equal(move.statusCode, 200, move.body);
    await assert.rejects(client.refreshTokenGrant(rp.config, moved.refresh_token!), (error: any) => error.error === 'invalid_grant');

    const forgetful = await signedInUser();
    const reset = (await signInSilently(rp, forgetful.jar, issuer, 'openid offline_access')).tokens;
    const forced = await t.app.inject({ method: 'POST', url: `/api/admin/users/${forgetful.userId}/force-password-reset`, headers: { cookie: admin.cookie } });
    assert.equal(forced.statusCode, 200, forced.body);
    await assert.rejects(client.refreshTokenGrant(rp.config, reset.refresh_token!), (error: any) => error.error === 'invalid_grant');

    const staffOnly = await newClient({ name: 'Staff room', first_party: true, allowed_roles: ['admin'] });
    const staffRp = await relyingParty(issuer, staffOnly.client_id, staffOnly.client_secret, APP_CALLBACK);
    const pupil = await signedInUser();
    const request = await authorizationRequest(staffRp, 'openid');
    const { url } = await follow(request.url, pupil.jar, issuer);
    assert.equal(new URL(url).searchParams.get('error'), 'access_denied');
  });

  it('prompt=none signs a Gatehouse user in from the first app on, and answers login_required once they signed out', async () => {
    const app = await newClient({ first_party: true });
    const rp = await relyingParty(issuer, app.client_id, app.client_secret, APP_CALLBACK);
    const user = await signedInUser();
    const silent = await signInSilently(rp, user.jar, issuer, 'openid', { prompt: 'none' });
    assert.equal(silent.tokens.claims()!.sub, user.subject);
    const out = await fetch(`${issuer}/api/auth/logout`, { method: 'POST', headers: { cookie: user.jar.header() } });
    assert.ok(out.status < 300, String(out.status));
    user.jar.take(out);
    const request = await authorizationRequest(rp, 'openid', { prompt: 'none' });
    const { url } = await follow(request.url, user.jar, issuer);
    assert.equal(new URL(url).searchParams.get('error'), 'login_required');

    // Another person signs in on the same browser: the app gets them, not the one before.
    const other = await register(t);
    const next = new CookieJar(`${user.jar.header()}; ${sessionCookie(other)}`);
    const theirs = await signInSilently(rp, next, issuer, 'openid', { prompt: 'none' });
    const otherSubject = (await t.database.db.selectFrom('users').select('subject').where('id', '=', other.json().user.id).executeTakeFirstOrThrow()).subject;
    assert.equal(theirs.tokens.claims()!.sub, otherSubject);
  });

  it('introspection: an app sees its own tokens; only a first-party confidential app sees other apps\u2019 tokens', async () => {
    const issuedTo = await newClient({ first_party: false, name: 'Issued to' });
    const stranger = await newClient({ first_party: false, name: 'Stranger' });
    const school = await newClient({ first_party: true, name: 'School API' });
    const rp = await relyingParty(issuer, issuedTo.client_id, issuedTo.client_secret, APP_CALLBACK);
    const { access_token } = await client.clientCredentialsGrant(rp.config, {});
    const introspect = async (c: { client_id: string; client_secret: string | null }) =>
      client.tokenIntrospection(await relyingParty(issuer, c.client_id, c.client_secret, APP_CALLBACK).then((r) => r.config), access_token);
    assert.equal((await introspect(issuedTo)).active, true);
    assert.equal((await introspect(school)).active, true);
    // Not allowed: told no more than that the token is inactive (RFC 7662 §2.2).
    assert.deepEqual(await introspect(stranger), { active: false });
  });
});
