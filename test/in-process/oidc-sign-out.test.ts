// Signing out through an app ends the session's tokens, not what the user allowed the apps: they stay
// under Connected apps and the next sign-in asks nothing, until the user disconnects them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminSession, login, register, sessionCookie, TEST_PASSWORD, type TestApp } from '../helpers/app.js';
import { authorizationRequest, client, CookieJar, follow, listeningTestApp, relyingParty, type RelyingParty } from '../helpers/oidc.js';

const CALLBACK = 'http://127.0.0.1:7/callback';
const SIGNED_OUT = 'http://127.0.0.1:7/signed-out';

describe('what a user allowed an app outlives their sign-out', () => {
  let t: TestApp;
  let issuer: string;
  let admin: { cookie: string };

  before(async () => {
    ({ t, issuer } = await listeningTestApp());
    admin = await adminSession(t);
  });
  after(() => t.close());

  /** A third-party app (it needs consent), registered by the administrator. */
  async function thirdPartyApp(): Promise<RelyingParty> {
    const res = await t.app.inject({ method: 'POST', url: '/api/admin/oidc/clients', headers: { cookie: admin.cookie }, payload: { name: 'Quiz site', redirect_uris: [CALLBACK], post_logout_redirect_uris: [SIGNED_OUT] } });
    assert.equal(res.statusCode, 201, res.body);
    return relyingParty(issuer, res.json().client.client_id, res.json().client_secret, CALLBACK);
  }

  async function account(): Promise<{ jar: CookieJar; phone: string }> {
    const res = await register(t);
    const phone = (await t.database.db.selectFrom('users').select('phone').where('id', '=', res.json().user.id).executeTakeFirstOrThrow()).phone;
    return { jar: new CookieJar(sessionCookie(res)), phone };
  }

  /** Signs in to the app, allowing it on the consent page when asked; the tokens and whether consent was asked. */
  async function signIn(rp: RelyingParty, jar: CookieJar, scope = 'openid profile') {
    const request = await authorizationRequest(rp, scope, scope.includes('offline_access') ? { prompt: 'consent' } : {});
    let { url } = await follow(request.url, jar, issuer);
    const asked = new URL(url).pathname.startsWith('/interaction/');
    if (asked) {
      const allowed = await fetch(`${url}/consent`, { method: 'POST', headers: { cookie: jar.header(), 'content-type': 'application/json' }, body: JSON.stringify({ allow: true }) });
      assert.equal(allowed.status, 200);
      ({ url } = await follow(((await allowed.json()) as { redirect_to: string }).redirect_to, jar, issuer));
    }
    const tokens = await client.authorizationCodeGrant(rp.config, new URL(url), { pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce });
    return { tokens, asked };
  }

  const connectedApps = async (jar: CookieJar): Promise<string[]> =>
    ((await (await fetch(`${issuer}/api/account/connected-apps`, { headers: { cookie: jar.header() } })).json()) as { apps: Array<{ client_id: string }> }).apps.map((a) => a.client_id);

  it("signing out through the app ends its tokens and Gatehouse's session; the app stays connected and the next sign-in asks nothing", async () => {
    const rp = await thirdPartyApp();
    const clientId = rp.config.clientMetadata().client_id;
    const user = await account();
    const first = await signIn(rp, user.jar);
    assert.equal(first.asked, true, 'consent is asked the first time');

    const page = await fetch(client.buildEndSessionUrl(rp.config, { id_token_hint: first.tokens.id_token!, post_logout_redirect_uri: SIGNED_OUT }), { headers: { cookie: user.jar.header() } });
    user.jar.take(page);
    const html = await page.text();
    const confirmed = await fetch(new URL(/action="([^"]+)"/.exec(html)![1]!, issuer), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: user.jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf: /name="xsrf" value="([^"]+)"/.exec(html)![1]!, logout: 'yes' }),
    });
    assert.equal(confirmed.status, 303);
    await assert.rejects(client.fetchUserInfo(rp.config, first.tokens.access_token, client.skipSubjectCheck), 'the access token ended with the session');

    const again = await login(t, user.phone, TEST_PASSWORD);
    assert.equal(again.statusCode, 200, again.body);
    const jar = new CookieJar(sessionCookie(again));
    assert.deepEqual(await connectedApps(jar), [clientId], 'still listed under Connected apps');
    const second = await signIn(rp, jar);
    assert.equal(second.asked, false, 'no consent page: the user allowed this app before');
  });
});
