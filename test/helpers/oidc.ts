// Relying-party side of the OpenID Connect tests: openid-client (a certified RP library) for the
// protocol, and a small cookie-keeping browser stand-in that follows the provider's redirects the way
// a browser does, for flows that need no page (the user is already signed in to Gatehouse).
import * as client from 'openid-client';
import { createTestApp, type TestApp } from './app.js';
import { freePort } from './cluster.js';

/** An in-process app listening on a free loopback port that is its issuer (PUBLIC_URL), for relying parties to reach over real HTTP. */
export async function listeningTestApp(env: Record<string, string> = {}): Promise<{ t: TestApp; issuer: string }> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const t = await createTestApp({ PUBLIC_URL: issuer, ...env });
  await t.app.listen({ port, host: '127.0.0.1' });
  return { t, issuer };
}

/** Cookies by name, as a browser keeps them for one site (path and expiry are not needed here). */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  constructor(initial?: string) {
    if (initial) for (const pair of initial.split(/;\s*/)) this.add(pair);
  }

  private add(pair: string): void {
    const at = pair.indexOf('=');
    if (at <= 0) return;
    const name = pair.slice(0, at).trim();
    const value = pair.slice(at + 1).trim();
    if (value === '') this.cookies.delete(name);
    else this.cookies.set(name, value);
  }

  take(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const expired = /max-age=0|expires=Thu, 01 Jan 1970/i.test(header);
      if (expired) this.cookies.delete(pair!.slice(0, pair!.indexOf('=')).trim());
      else this.add(pair!);
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  has(name: string): boolean {
    return this.cookies.has(name);
  }
}

/** Follows redirects on the provider's origin with the jar's cookies until one leaves it (to the app's redirect URI) or a page answers. */
export async function follow(start: string, jar: CookieJar, origin: string, limit = 10): Promise<{ url: string; response: Response | null }> {
  let url = start;
  for (let i = 0; i < limit; i++) {
    if (new URL(url).origin !== origin) return { url, response: null };
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header() } });
    jar.take(response);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) return { url, response };
    await response.arrayBuffer();
    url = new URL(location, url).toString();
  }
  throw new Error(`more than ${limit} redirects from ${start}`);
}

export interface RelyingParty {
  config: client.Configuration;
  redirectUri: string;
}

export async function relyingParty(issuer: string, clientId: string, clientSecret: string | null, redirectUri: string): Promise<RelyingParty> {
  const options = issuer.startsWith('http:') ? { execute: [client.allowInsecureRequests] } : undefined;
  const config = await client.discovery(new URL(issuer), clientId, clientSecret ?? undefined, clientSecret === null ? client.None() : undefined, options);
  return { config, redirectUri };
}

/** An authorization request with PKCE (S256), state and nonce, as a careful app makes it. */
export async function authorizationRequest(rp: RelyingParty, scope: string, extra: Record<string, string> = {}) {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(rp.config, {
    redirect_uri: rp.redirectUri,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url: url.toString(), codeVerifier, state, nonce };
}

/** Signs in a browser already signed in to Gatehouse (its jar) to the app, through the provider's redirects; the token response. */
export async function signInSilently(rp: RelyingParty, jar: CookieJar, origin: string, scope = 'openid profile', extra: Record<string, string> = {}) {
  // offline_access counts only with prompt=consent (OpenID Connect Core §11); a first-party app gets it without a page.
  const request = await authorizationRequest(rp, scope, { ...(scope.split(' ').includes('offline_access') ? { prompt: 'consent' } : {}), ...extra });
  const { url } = await follow(request.url, jar, origin);
  if (!url.startsWith(rp.redirectUri)) throw new Error(`the sign-in did not come back to the app: ${url}`);
  const tokens = await client.authorizationCodeGrant(rp.config, new URL(url), { pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce });
  return { tokens, callback: url };
}

export { client };
