// The provider's URLs are the issuer's (PUBLIC_URL) however a request reached the server: through a
// proxy that passes its upstream's name as Host (nginx does unless told otherwise), with a Host or
// X-Forwarded-Host a client wrote, or over plain http behind a proxy that ends TLS.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, register, sessionCookie, type TestApp } from '../helpers/app.js';

const CALLBACK = 'https://app.example.test/callback';
const S256_CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

/** A first-party app registered by a platform administrator (the session cookie's name is `cookieName`). */
async function registeredClient(t: TestApp, cookieName: string): Promise<string> {
  const registered = await register(t);
  await t.database.db.updateTable('users').set({ role: 'admin' }).where('id', '=', registered.json().user.id).execute();
  const res = await t.app.inject({ method: 'POST', url: '/api/admin/oidc/clients', headers: { cookie: sessionCookie(registered, cookieName) }, payload: { name: 'Wiki', redirect_uris: [CALLBACK], first_party: true } });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().client.client_id as string;
}

function endpointsOf(discovery: Record<string, unknown>): string[] {
  return Object.entries(discovery)
    .filter(([name]) => name.endsWith('_endpoint') || name === 'jwks_uri' || name === 'issuer')
    .map(([, value]) => String(value));
}

describe('the provider reached with a Host or X-Forwarded-Host other than PUBLIC_URL\'s (TRUST_PROXY set)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ PUBLIC_URL: 'http://127.0.0.1:4000', TRUST_PROXY: '127.0.0.1' });
  });
  after(() => t.close());

  it('publishes every endpoint under PUBLIC_URL, whatever Host or X-Forwarded-Host the request carries', async () => {
    for (const headers of [{ host: 'gatehouse' }, { 'x-forwarded-host': 'evil.example' }, { host: 'evil.example', 'x-forwarded-proto': 'https' }]) {
      const res = await t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration', headers });
      assert.equal(res.statusCode, 200, res.body);
      const urls = endpointsOf(res.json());
      assert.ok(urls.length >= 8, urls.join(' '));
      for (const url of urls) assert.ok(url === 'http://127.0.0.1:4000' || url.startsWith('http://127.0.0.1:4000/'), `${JSON.stringify(headers)}: ${url}`);
    }
  });
});

describe('the provider at an https PUBLIC_URL reached over plain http (TLS ends at a proxy Gatehouse was not told about)', () => {
  let t: TestApp;
  let clientId: string;
  before(async () => {
    t = await createTestApp({ PUBLIC_URL: 'https://id.example.test', ADMIN_REQUIRE_TWO_FACTOR: 'false' });
    clientId = await registeredClient(t, '__Host-gatehouse_session');
  });
  after(() => t.close());

  it('starts a sign-in with Secure cookies and sends the browser back to the https issuer, never a 500', async () => {
    const query = new URLSearchParams({ client_id: clientId, response_type: 'code', scope: 'openid', redirect_uri: CALLBACK, state: 'st', code_challenge: S256_CHALLENGE, code_challenge_method: 'S256' });
    const started = await t.app.inject({ method: 'GET', url: `/oidc/auth?${query}`, headers: { host: 'gatehouse' } });
    assert.equal(started.statusCode, 303, started.body);
    const interaction = started.headers.location as string;
    assert.match(interaction, /^\/interaction\/[\w-]+$/);
    const cookies = started.cookies.filter((c) => c.name.startsWith('gatehouse_oidc_'));
    assert.ok(cookies.length > 0);
    for (const cookie of cookies) assert.equal(cookie.secure, true, cookie.name);

    const registered = await register(t);
    const session = sessionCookie(registered, '__Host-gatehouse_session');
    const cookie = [session, ...cookies.map((c) => `${c.name}=${c.value}`)].join('; ');
    const signedIn = await t.app.inject({ method: 'GET', url: interaction, headers: { cookie, host: 'gatehouse' } });
    assert.equal(signedIn.statusCode, 303, signedIn.body);
    assert.match(signedIn.headers.location as string, /^https:\/\/id\.example\.test\/oidc\/auth\/[\w-]+$/, 'the resume URL is the issuer\'s');
  });
});
