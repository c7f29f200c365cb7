// The generic OpenID Connect upstream against a real provider: Gatehouse's own, listening on a
// loopback port. Discovery, PKCE, the nonce and the ID token's signature are checked for real by
// openid-client; the tests tamper with each and expect a refusal.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createOidcProvider } from '../../src/federation/oidc.js';
import { UpstreamError, type ProviderSettings, type StartedFlow } from '../../src/federation/types.js';
import { adminSession, register, sessionCookie, type TestApp } from '../helpers/app.js';
import { CookieJar, follow, listeningTestApp } from '../helpers/oidc.js';
import { startStandInServer } from '../helpers/upstream/stand-in-server.js';

const CALLBACK = 'http://127.0.0.1:7/api/auth/providers/oidc/callback';
const patientFetch: typeof fetch = (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(500) });

async function refusal(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  assert.ok(error instanceof UpstreamError, `expected an UpstreamError, got ${String(error)}`);
  return error;
}

describe('generic OpenID Connect upstream (Gatehouse as the provider)', () => {
  let t: TestApp;
  let issuer: string;
  let settings: ProviderSettings;
  let user: { jar: CookieJar; subject: string };
  const provider = createOidcProvider();

  before(async () => {
    ({ t, issuer } = await listeningTestApp());
    const admin = await adminSession(t);
    const created = await t.app.inject({ method: 'POST', url: '/api/admin/oidc/clients', headers: { cookie: admin.cookie }, payload: { name: 'Gatehouse upstream', redirect_uris: [CALLBACK], first_party: true } });
    assert.equal(created.statusCode, 201, created.body);
    const { client, client_secret } = created.json();
    settings = { name: 'oidc', appId: client.client_id, appSecret: client_secret, authorizeUrl: null, apiUrl: null, extra: { issuer }, boundOrganizationId: null, enabled: true };
    const res = await register(t);
    assert.equal(res.statusCode, 201, res.body);
    const row = await t.database.db.selectFrom('users').select('subject').where('id', '=', res.json().user.id).executeTakeFirstOrThrow();
    user = { jar: new CookieJar(sessionCookie(res)), subject: row.subject };
  });
  after(() => t.close());

  async function begin(state = `gh-${Math.random().toString(36).slice(2)}`): Promise<StartedFlow & { callbackUrl: string }> {
    return { ...(await provider.start(settings, state, CALLBACK)), callbackUrl: CALLBACK };
  }

  /** The signed-in browser goes through the provider and comes back; the callback's query. */
  async function authorize(authorizeUrl: string, jar = user.jar): Promise<URLSearchParams> {
    const { url } = await follow(authorizeUrl, jar, issuer);
    assert.ok(url.startsWith(CALLBACK), `did not come back: ${url}`);
    return new URL(url).searchParams;
  }

  it('starts with the code flow, PKCE S256, a nonce and Gatehouse\'s state, keeping the verifier and nonce for the finish', async () => {
    const flow = await begin('the-state');
    const url = new URL(flow.authorizeUrl);
    const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { authorization_endpoint: string };
    assert.equal(url.origin + url.pathname, discovery.authorization_endpoint);
    const q = Object.fromEntries(url.searchParams);
    assert.deepEqual(Object.keys(q).sort(), ['client_id', 'code_challenge', 'code_challenge_method', 'nonce', 'redirect_uri', 'response_type', 'scope', 'state']);
    assert.equal(q.client_id, settings.appId);
    assert.equal(q.redirect_uri, CALLBACK);
    assert.equal(q.response_type, 'code');
    assert.equal(q.scope, 'openid profile');
    assert.equal(q.state, 'the-state');
    assert.equal(q.code_challenge_method, 'S256');
    assert.equal(q.code_challenge, createHash('sha256').update(flow.secrets.codeVerifier!).digest('base64url'));
    assert.equal(q.nonce, flow.secrets.nonce);
    assert.equal(flow.secrets.state, 'the-state');
    const scoped = await provider.start({ ...settings, extra: { issuer, scopes: 'openid profile phone' } }, 's', CALLBACK);
    assert.equal(new URL(scoped.authorizeUrl).searchParams.get('scope'), 'openid profile phone');
  });

  it('finishes a sign-in: the ID token validated, the subject is issuer|sub, the name from the provider', async () => {
    const flow = await begin();
    const identity = await provider.finish(settings, await authorize(flow.authorizeUrl), flow, patientFetch);
    assert.equal(identity.provider, 'oidc');
    assert.equal(identity.subject, `${issuer}|${user.subject}`);
    assert.equal(identity.displayName, '张老师');
  });

  it('refuses a replayed callback (the code is single-use) and a wrong PKCE verifier as an invalid code', async () => {
    const flow = await begin();
    const callback = await authorize(flow.authorizeUrl);
    await provider.finish(settings, callback, flow, patientFetch);
    assert.equal((await refusal(provider.finish(settings, callback, flow, patientFetch))).code, 'UPSTREAM_CODE_INVALID');

    const other = await begin();
    const otherCallback = await authorize(other.authorizeUrl);
    const wrongVerifier = { ...other, secrets: { ...other.secrets, codeVerifier: 'x'.repeat(43) } };
    assert.equal((await refusal(provider.finish(settings, otherCallback, wrongVerifier, patientFetch))).code, 'UPSTREAM_CODE_INVALID');
  });

  it('refuses an ID token whose nonce is not this flow\'s', async () => {
    const flow = await begin();
    const callback = await authorize(flow.authorizeUrl);
    const error = await refusal(provider.finish(settings, callback, { ...flow, secrets: { ...flow.secrets, nonce: 'another-nonce' } }, patientFetch));
    assert.equal(error.code, 'UPSTREAM_BAD_RESPONSE');
    assert.match(error.message, /nonce|claim/i);
  });

  it('refuses a callback whose state is not this flow\'s', async () => {
    const flow = await begin();
    const callback = await authorize(flow.authorizeUrl);
    const error = await refusal(provider.finish(settings, callback, { ...flow, secrets: { ...flow.secrets, state: 'another-state' } }, patientFetch));
    assert.equal(error.code, 'UPSTREAM_BAD_RESPONSE');
    assert.match(error.message, /state/i);
  });

  it('reports the provider sending the user back with an error (here login_required) as denied', async () => {
    const flow = await begin();
    // A browser with no session at the provider, and no page allowed: the provider answers error=login_required.
    const url = new URL(flow.authorizeUrl);
    url.searchParams.set('prompt', 'none');
    const callback = await authorize(url.toString(), new CookieJar());
    assert.equal(callback.get('error'), 'login_required');
    const error = await refusal(provider.finish(settings, callback, flow, patientFetch));
    assert.equal(error.code, 'UPSTREAM_DENIED');
    assert.equal(error.providerCode, 'login_required');
  });

  it('fetches discovery once per issuer while it is fresh, and again once it is stale', async () => {
    let discoveries = 0;
    const counting: typeof fetch = (input, init) => {
      if (String(input instanceof Request ? input.url : input).endsWith('/.well-known/openid-configuration')) discoveries++;
      return fetch(input, init);
    };
    const cached = createOidcProvider({ fetch: counting });
    await cached.start(settings, 'a', CALLBACK);
    await cached.start(settings, 'b', CALLBACK);
    assert.equal(discoveries, 1);
    const uncached = createOidcProvider({ fetch: counting, discoveryTtlMs: 0 });
    await uncached.start(settings, 'a', CALLBACK);
    await uncached.start(settings, 'b', CALLBACK);
    assert.equal(discoveries, 3);
  });

  it('refuses a plain-HTTP issuer that is not on loopback, without calling it', async () => {
    let called = false;
    const watching = createOidcProvider({ fetch: (input, init) => ((called = true), fetch(input, init)) });
    const error = await refusal(watching.start({ ...settings, extra: { issuer: 'http://idp.example.edu' } }, 's', CALLBACK));
    assert.equal(error.code, 'UPSTREAM_BAD_RESPONSE');
    assert.equal(called, false);
  });

  it('reports an issuer that hangs or is down as unavailable', { timeout: 15_000 }, async () => {
    const stand = await startStandInServer({}); // a loopback server that can be made to hang, then vanish
    try {
      const hanging = createOidcProvider({ fetch: patientFetch });
      stand.setOutage('hang');
      assert.equal((await refusal(hanging.start({ ...settings, extra: { issuer: stand.url } }, 's', CALLBACK))).code, 'UPSTREAM_UNAVAILABLE');
      stand.setOutage('none');
      await stand.close();
      assert.equal((await refusal(hanging.start({ ...settings, extra: { issuer: stand.url } }, 's', CALLBACK))).code, 'UPSTREAM_UNAVAILABLE');
      // And at the finish: the token endpoint unreachable through the injected fetch.
      const flow = await begin();
      const callback = await authorize(flow.authorizeUrl);
      const refused: typeof fetch = (input, init) => fetch(String(input instanceof Request ? input.url : input).replace(issuer, stand.url), init);
      assert.equal((await refusal(provider.finish(settings, callback, flow, refused))).code, 'UPSTREAM_UNAVAILABLE');
    } finally {
      await stand.close();
    }
  });
});
