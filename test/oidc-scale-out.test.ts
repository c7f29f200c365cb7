// Single sign-on scaled out: two `gatehouse serve` servers sharing PostgreSQL and Redis behind a real
// nginx that balances round-robin with no sticky sessions, PUBLIC_URL being nginx's address (nginx
// passes its upstream's name as Host). A sign-in whose every request reaches the other server than
// the one before, a code replayed on the other server, a key rotated through one server signing on
// the other.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { freePort, request, startServer, type ServerProcess } from './helpers/cluster.js';
import { startNginx, type Nginx } from './helpers/nginx.js';
import { authorizationRequest, client, CookieJar, follow, relyingParty } from './helpers/oidc.js';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js';
import { TEST_REDIS_URL, uniquePrefix } from './helpers/redis.js';
import { unmet } from './helpers/requirements.js';
import { decodeJwt, newAccount, registerApp, signedInAdministrator, tokenRequest } from './helpers/sso.js';

/** Browserless apps' redirect URI: the code is read from the redirect; nothing listens there. */
const CALLBACK = 'http://127.0.0.1:7/callback';

describe('single sign-on on two servers behind nginx', { skip: await unmet('nginx', 'postgres', 'redis') }, () => {
  let database: TestDatabase;
  const servers: ServerProcess[] = [];
  let nginx: Nginx;
  let issuer: string;
  let admin: string;

  before(async () => {
    database = await createTestDatabase('oidc');
    const nginxPort = await freePort();
    issuer = `http://127.0.0.1:${nginxPort}`;
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: uniquePrefix('oidc'),
      TRUST_PROXY: '127.0.0.1',
      PUBLIC_URL: issuer,
      OIDC_KEY_REFRESH_SECONDS: '1',
      ADMIN_REQUIRE_TWO_FACTOR: 'false',
    };
    // The first server creates the schema and the first signing key; the second finds them.
    servers.push(await startServer({ workers: 1, env }));
    servers.push(await startServer({ workers: 1, env }));
    nginx = await startNginx(servers.map((s) => s.port), { port: nginxPort });
    admin = await signedInAdministrator(nginx.port, { ...env, DATA_DIR: servers[0]!.dataDir });
  });
  after(async () => {
    await nginx?.stop();
    await Promise.all(servers.map((s) => s.stop()));
    await database?.drop();
  });

  it('a sign-in whose every request reaches the other server succeeds: authorization, consent page, consent, code, tokens, userinfo', async () => {
    const app = await registerApp(nginx.port, admin, { name: 'Quiz site', redirect_uris: [CALLBACK] });
    const account = await newAccount(nginx.port, servers[0]!.invitationCode);
    const rp = await relyingParty(issuer, app.client_id, app.client_secret, CALLBACK);
    // Which server answered each request of the sign-in, in order (nginx's X-Upstream).
    const upstreams: string[] = [];
    rp.config[client.customFetch] = async (url, options) => {
      const response = await fetch(url, options as RequestInit);
      upstreams.push(response.headers.get('x-upstream')!);
      return response;
    };
    const jar = new CookieJar(account.cookie);
    const browse = async (url: string, init: RequestInit = {}): Promise<Response> => {
      const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...init.headers, cookie: jar.header() } });
      jar.take(response);
      upstreams.push(response.headers.get('x-upstream')!);
      return response;
    };
    /** Follows Gatehouse's redirects until they leave it (to the app) or a page answers. */
    const walk = async (start: string): Promise<string> => {
      let url = start;
      for (let hop = 0; hop < 10 && url.startsWith(`${issuer}/`); hop++) {
        const response = await browse(url);
        const location = response.headers.get('location');
        if (!location) return url;
        url = new URL(location, url).href;
      }
      return url;
    };

    const started = await authorizationRequest(rp, 'openid profile');
    const atConsent = await walk(started.url);
    assert.match(new URL(atConsent).pathname, /^\/interaction\/[\w-]+$/);
    const asked = await browse(`${atConsent}/details`);
    assert.equal(asked.status, 200);
    assert.equal(((await asked.json()) as { client: { name: string } }).client.name, 'Quiz site');
    const allowed = await browse(`${atConsent}/consent`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ allow: true }) });
    assert.equal(allowed.status, 200);
    const callback = await walk(((await allowed.json()) as { redirect_to: string }).redirect_to);
    assert.ok(callback.startsWith(`${CALLBACK}?`), callback);
    const tokens = await client.authorizationCodeGrant(rp.config, new URL(callback), { pkceCodeVerifier: started.codeVerifier, expectedState: started.state, expectedNonce: started.nonce });
    const profile = await client.fetchUserInfo(rp.config, tokens.access_token, tokens.claims()!.sub);
    assert.equal(profile.name, account.name);

    assert.ok(upstreams.length >= 6, upstreams.join(' '));
    assert.equal(new Set(upstreams).size, 2, 'both servers took part');
    upstreams.forEach((upstream, i) => i > 0 && assert.notEqual(upstream, upstreams[i - 1], `request ${i} went to the same server as the one before: ${upstreams.join(' ')}`));
  });

  it('a code redeemed through one server is refused on the other, also when both requests arrive at once', async () => {
    const app = await registerApp(nginx.port, admin, { name: 'Library', first_party: true, redirect_uris: [CALLBACK] });
    const account = await newAccount(nginx.port, servers[0]!.invitationCode);
    const jar = new CookieJar(account.cookie);
    const rp = await relyingParty(issuer, app.client_id, app.client_secret, CALLBACK);
    for (let i = 0; i < 6; i++) {
      const started = await authorizationRequest(rp, 'openid');
      const code = new URL((await follow(started.url, jar, issuer)).url).searchParams.get('code')!;
      const redeem = { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: started.codeVerifier };
      const [one, other] = i % 2 ? [servers[0]!, servers[1]!] : [servers[1]!, servers[0]!];
      const answers =
        i < 2
          ? [await tokenRequest(one.port, app, redeem), await tokenRequest(other.port, app, redeem)]
          : await Promise.all([tokenRequest(one.port, app, redeem), tokenRequest(other.port, app, redeem)]);
      if (i < 2) assert.equal(answers[0]!.status, 200, 'the first redemption succeeds');
      assert.deepEqual(answers.map((a) => a.status).sort(), [200, 400], JSON.stringify(answers.map((a) => a.body)));
      assert.equal(answers.find((a) => a.status === 400)!.body.error, 'invalid_grant');
    }
  });

  it('a key rotated through one server signs on the other after its next reading of the keys', async () => {
    const app = await registerApp(nginx.port, admin, { name: 'Timetable', first_party: true, redirect_uris: [CALLBACK] });
    const account = await newAccount(nginx.port, servers[0]!.invitationCode);
    const jar = new CookieJar(account.cookie);
    const rp = await relyingParty(issuer, app.client_id, app.client_secret, CALLBACK);
    const [rotating, following] = servers as [ServerProcess, ServerProcess];

    const rotated = await request(rotating.port, 'POST', '/api/admin/oidc/keys/rotate', { cookie: admin, body: { activate_in_seconds: 1, retire_after_seconds: 3600 } });
    assert.equal(rotated.status, 201, JSON.stringify(rotated.body));
    const newKey = rotated.body.key as { kid: string; activates_at: string };
    // Past its activation and the other server's next reading of the keys (OIDC_KEY_REFRESH_SECONDS=1).
    await sleep(Math.max(0, Date.parse(newKey.activates_at) + 1_300 - Date.now()));

    const published = await request(following.port, 'GET', '/oidc/jwks');
    assert.ok((published.body as JSONWebKeySet).keys.some((k) => k.kid === newKey.kid), 'the other server publishes the new key');
    // A code from a sign-in through nginx, redeemed on the server that did not rotate.
    const started = await authorizationRequest(rp, 'openid');
    const code = new URL((await follow(started.url, jar, issuer)).url).searchParams.get('code')!;
    const redeemed = await tokenRequest(following.port, app, { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: started.codeVerifier });
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
    const idToken = redeemed.body.id_token as string;
    assert.equal(decodeJwt(idToken).header.kid, newKey.kid, 'the other server signs with the new key');
    const { payload } = await jwtVerify(idToken, createLocalJWKSet(published.body as JSONWebKeySet), { issuer, audience: app.client_id });
    assert.equal(payload.nonce, started.nonce);
  });
});
