/// <reference lib="dom" />
// Single sign-on as people and apps use it, across real processes: one `gatehouse serve --workers 2`
// for the file. The example app (examples/oidc-node-app) runs as its own process and Chromium signs in
// through it on Gatehouse's real login and consent pages; browserless relying parties (openid-client,
// and raw token requests that say which worker answered) race codes and refresh tokens across the
// workers, use a disabled account's tokens, finish a sign-in across a key rotation, and receive a
// back-channel logout.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import type { Page } from 'playwright-core';
import { axeViolations, launchBrowser } from './helpers/browser.js';
import { cookieOf, freePort, loginThrough, request, runCli, startServer, type HttpResult, type ServerProcess } from './helpers/cluster.js';
import { authorizationRequest, client, CookieJar, follow, relyingParty, signInSilently } from './helpers/oidc.js';
import { unmet } from './helpers/requirements.js';
import { decodeJwt, newAccount, registerApp, registerAppWithCli, signedInAdministrator, SSO_PASSWORD, startExampleApp, tokenRequest, type ExampleApp } from './helpers/sso.js';

/** Browserless apps' redirect URI: the code is read from the redirect; nothing listens there. */
const CALLBACK = 'http://127.0.0.1:7/callback';
const POST_LOGOUT = 'http://127.0.0.1:7/signed-out';
const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** What a browser logs of a signed-out visitor (every Gatehouse page asks who is signed in: 401). */
const SIGNED_OUT_REFUSAL = /status of 401/;

const withoutBrowser = await unmet('chromium');

describe('single sign-on across two workers', () => {
  let server: ServerProcess;
  let issuer: string;
  let admin: string;

  before(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    // The administrator registers apps through the admin API with a password session.
    server = await startServer({ workers: 2, port, env: { PUBLIC_URL: issuer, OIDC_KEY_REFRESH_SECONDS: '1', ADMIN_REQUIRE_TWO_FACTOR: 'false' } });
    admin = await signedInAdministrator(port, { DATA_DIR: server.dataDir });
  });
  after(() => server?.stop());

  const userinfo = (accessToken: string): Promise<HttpResult> => request(server.port, 'GET', '/oidc/me', { headers: { authorization: `Bearer ${accessToken}` } });

  it(
    'Chromium signs in through the example app on the real login and consent pages (denied, then allowed); a first-party app then signs in without a page; signing out of the app signs out of Gatehouse',
    { skip: withoutBrowser },
    async () => {
      // Two apps on two sites of this machine (localhost and 127.0.0.1), each with its own cookie jar in the browser.
      const [quizPort, libraryPort] = [await freePort(), await freePort()];
      const quizUrl = `http://localhost:${quizPort}`;
      const libraryUrl = `http://127.0.0.1:${libraryPort}`;
      // Registered as the example's README says: a third-party app, and a first-party one.
      const cli = { DATA_DIR: server.dataDir };
      const quiz = await registerAppWithCli(cli, ['--name', 'Quiz site', '--redirect-uri', `${quizUrl}/callback`, '--post-logout-redirect-uri', `${quizUrl}/`]);
      const library = await registerAppWithCli(cli, ['--name', 'Library', '--first-party', '--redirect-uri', `${libraryUrl}/callback`, '--post-logout-redirect-uri', `${libraryUrl}/`]);
      const apps: ExampleApp[] = [];
      apps.push(await startExampleApp({ issuer, app: quiz, redirectUri: `${quizUrl}/callback`, port: quizPort }));
      apps.push(await startExampleApp({ issuer, app: library, redirectUri: `${libraryUrl}/callback`, port: libraryPort }));
      const account = await newAccount(server.port, server.invitationCode, '李老师');
      const { browser, close } = await launchBrowser();
      const problems: string[] = [];
      try {
        // bypassCSP: axe-core is injected into the consent page.
        const context = await browser.newContext({ locale: 'en', bypassCSP: true });
        const page: Page = await context.newPage();
        page.on('pageerror', (error) => problems.push(`${page.url()}: ${error.message}`));
        // Expected: the 401s of a signed-out visitor, and the app's 403 when the person denies it.
        const expected = (url: string, text: string) => SIGNED_OUT_REFUSAL.test(text) || (url.startsWith(`${quizUrl}/callback?error=access_denied`) && /status of 403/.test(text));
        page.on('console', (message) => {
          if (message.type() === 'error' && !expected(page.url(), message.text())) problems.push(`${page.url()}: ${message.text()}`);
        });
        const atGatehouse = (pathname: RegExp) => (url: URL) => url.origin === issuer && pathname.test(url.pathname);

        // Signed out everywhere: the app sends the browser to Gatehouse's login page.
        await page.goto(`${quizUrl}/`);
        await Promise.all([page.waitForURL(atGatehouse(/^\/login$/)), page.click('text=Sign in with Gatehouse')]);
        await page.fill('#f-phone', account.phone);
        await page.fill('#f-password', SSO_PASSWORD);
        await page.waitForFunction(() => (document.querySelector('.captcha-image') as HTMLImageElement | null)?.src.startsWith('data:image/png'));
        await page.fill('#f-captcha', 'TEST');
        // Signed in, the login page returns to the request, which asks for consent: Quiz site is not the school's own.
        await Promise.all([page.waitForURL(atGatehouse(/^\/interaction\/[\w-]+$/)), page.click('button[type=submit]')]);
        await page.getByRole('button', { name: 'Deny' }).waitFor();
        assert.match((await page.textContent('main')) ?? '', /Quiz site/);
        assert.match((await page.textContent('main')) ?? '', /李老师/);
        assert.deepEqual((await axeViolations(page)).map((v) => v.id), [], 'the consent page passes axe-core');
        // Denied: the app says so. Asked again, the person is still signed in to Gatehouse and only answers.
        await Promise.all([page.waitForURL((url) => url.origin === quizUrl && url.pathname === '/callback'), page.getByRole('button', { name: 'Deny' }).click()]);
        assert.match((await page.textContent('main')) ?? '', /Not signed in: access_denied/);
        await page.click('text=Back');
        await Promise.all([page.waitForURL(atGatehouse(/^\/interaction\/[\w-]+$/)), page.click('text=Sign in with Gatehouse')]);
        await Promise.all([page.waitForURL(`${quizUrl}/`), page.getByRole('button', { name: 'Allow' }).click()]);
        assert.equal(await page.textContent('#name'), '李老师');
        assert.match((await page.textContent('#claims')) ?? '', /"sub"/);

        // Single sign-on: the Library (first-party) signs the same person in through Gatehouse's
        // redirects alone: no Gatehouse page is shown.
        const fromGatehouse: number[] = [];
        page.on('response', (response) => {
          if (response.request().isNavigationRequest() && response.url().startsWith(`${issuer}/`)) fromGatehouse.push(response.status());
        });
        await page.goto(`${libraryUrl}/`);
        await page.click('text=Sign in with Gatehouse');
        await page.waitForSelector('#name');
        assert.equal(page.url(), `${libraryUrl}/`);
        assert.equal(await page.textContent('#name'), '李老师');
        assert.ok(fromGatehouse.length >= 1, 'the sign-in went through Gatehouse');
        assert.ok(fromGatehouse.every((status) => status === 303), `Gatehouse only redirected: ${fromGatehouse.join(' ')}`);

        // Signing out of the Quiz site: Gatehouse asks to confirm, signs the person out, and returns to the app.
        await page.goto(`${quizUrl}/`);
        await Promise.all([page.waitForURL(atGatehouse(/^\/oidc\/session\/end$/)), page.click('button:text-is("Sign out")')]);
        await Promise.all([page.waitForURL(`${quizUrl}/`), page.click('button[name=logout]')]);
        assert.match((await page.textContent('main')) ?? '', /Sign in with Gatehouse/);
        // Gatehouse's session ended with it: the account page asks to sign in.
        await page.goto(`${issuer}/account`);
        await page.waitForURL(atGatehouse(/^\/login$/));
        await context.close();
      } finally {
        await close();
        for (const app of apps) await app.stop();
      }
      assert.deepEqual(problems, [], 'no script errors or failed loads in the browser');
    },
  );

  it('a code sent twice at once is redeemed once: the other request gets invalid_grant, whichever worker each reaches', async () => {
    const app = await registerApp(server.port, admin, { name: 'Replay', first_party: true, redirect_uris: [CALLBACK] });
    const account = await newAccount(server.port, server.invitationCode);
    const jar = new CookieJar(account.cookie);
    const rp = await relyingParty(issuer, app.client_id, app.client_secret, CALLBACK);
    const workers = new Set<string>();
    let acrossWorkers = 0;
    for (let i = 0; i < 60 && acrossWorkers < 10; i++) {
      const started = await authorizationRequest(rp, 'openid');
      const { url } = await follow(started.url, jar, issuer);
      const code = new URL(url).searchParams.get('code');
      assert.ok(code, url);
      const redeem = { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: started.codeVerifier };
      const answers = await Promise.all([tokenRequest(server.port, app, redeem), tokenRequest(server.port, app, redeem)]);
      assert.deepEqual(answers.map((a) => a.status).sort(), [200, 400], JSON.stringify(answers.map((a) => a.body)));
      assert.equal(answers.find((a) => a.status === 400)!.body.error, 'invalid_grant');
      assert.ok(answers.find((a) => a.status === 200)!.body.id_token);
      for (const answer of answers) workers.add(answer.worker!);
      if (answers[0]!.worker !== answers[1]!.worker) acrossWorkers++;
    }
    assert.equal(workers.size, 2, 'both workers answered');
    assert.ok(acrossWorkers >= 10, `${acrossWorkers} codes were sent to both workers at once`);
  });

  it('two refreshes of one refresh token at once both succeed, whichever worker each reaches (the reuse window)', async () => {
    const app = await registerApp(server.port, admin, { name: 'Parallel tabs', first_party: true, redirect_uris: [CALLBACK] });
    const account = await newAccount(server.port, server.invitationCode);
    const rp = await relyingParty(issuer, app.client_id, app.client_secret, CALLBACK);
    const { tokens } = await signInSilently(rp, new CookieJar(account.cookie), issuer, 'openid offline_access');
    let refreshToken = tokens.refresh_token!;
    let acrossWorkers = 0;
    let answers: HttpResult[] = [];
    for (let i = 0; i < 30 && acrossWorkers < 5; i++) {
      const refresh = { grant_type: 'refresh_token', refresh_token: refreshToken };
      answers = await Promise.all([tokenRequest(server.port, app, refresh), tokenRequest(server.port, app, refresh)]);
      for (const answer of answers) {
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        assert.ok(answer.body.refresh_token && answer.body.refresh_token !== refreshToken, 'a new refresh token each time');
      }
      if (answers[0]!.worker !== answers[1]!.worker) acrossWorkers++;
      refreshToken = answers[1]!.body.refresh_token;
    }
    assert.ok(acrossWorkers >= 5, `${acrossWorkers} pairs were answered by both workers`);
    // Both tabs' new access tokens work.
    for (const answer of answers) assert.equal((await userinfo(answer.body.access_token)).status, 200);
  });

  it("a disabled account's tokens stop working on every worker: userinfo and refresh refused", async () => {
    const app = await registerApp(server.port, admin, { name: 'Gradebook', first_party: true, redirect_uris: [CALLBACK] });
    const account = await newAccount(server.port, server.invitationCode);
    const rp = await relyingParty(issuer, app.client_id, app.client_secret, CALLBACK);
    const { tokens } = await signInSilently(rp, new CookieJar(account.cookie), issuer, 'openid profile offline_access');
    const working = await userinfo(tokens.access_token);
    assert.equal(working.status, 200);
    assert.equal(working.body.name, account.name);

    const disabled = await request(server.port, 'POST', `/api/admin/users/${account.id}/disable`, { cookie: admin });
    assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
    const workers = new Set<string>();
    for (let i = 0; i < 20 && (i < 4 || workers.size < 2); i++) {
      const refused = await userinfo(tokens.access_token);
      assert.equal(refused.status, 401, JSON.stringify(refused.body));
      assert.equal(refused.body.error, 'invalid_token');
      const refresh = await tokenRequest(server.port, app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
      assert.equal(refresh.status, 400, JSON.stringify(refresh.body));
      assert.equal(refresh.body.error, 'invalid_grant');
      workers.add(refused.worker!).add(refresh.worker!);
    }
    assert.equal(workers.size, 2, 'both workers refused');
  });

  it('a key rotation during a sign-in: the sign-in finishes with an ID token signed by the new key, which the app fetches and verifies; tokens signed before still verify', async () => {
    const app = await registerApp(server.port, admin, { name: 'Timetable', first_party: true, redirect_uris: [CALLBACK] });
    const account = await newAccount(server.port, server.invitationCode);
    const signedBefore = (await signInSilently(await relyingParty(issuer, app.client_id, app.client_secret, CALLBACK), new CookieJar(account.cookie), issuer)).tokens.id_token!;
    const oldKid = decodeJwt(signedBefore).header.kid as string;

    // Another browser starts signing in and is at the login page when the key rotates. Its app checks
    // ID token signatures against the JWKS, which it fetches when it first needs it.
    const rp = await relyingParty(issuer, app.client_id, app.client_secret, CALLBACK);
    client.enableNonRepudiationChecks(rp.config);
    const started = await authorizationRequest(rp, 'openid profile');
    const jar = new CookieJar();
    const atLogin = new URL((await follow(started.url, jar, issuer)).url);
    assert.equal(atLogin.pathname, '/login');
    const returnTo = atLogin.searchParams.get('return_to')!;

    const rotated = await runCli(['keys', 'rotate', '--activate-in', '1', '--retire-after', '3600', '--json'], { DATA_DIR: server.dataDir });
    assert.equal(rotated.code, 0, rotated.stderr);
    const newKey = JSON.parse(rotated.stdout).key as { kid: string; activates_at: string };
    assert.notEqual(newKey.kid, oldKid);
    // Past its activation and every worker's next reading of the keys (OIDC_KEY_REFRESH_SECONDS=1).
    await sleep(Math.max(0, Date.parse(newKey.activates_at) + 1_300 - Date.now()));

    // The browser signs in on the login page and goes on with its request.
    const login = await loginThrough(server.port, account.phone, SSO_PASSWORD);
    assert.equal(login.status, 200);
    const signedIn = new CookieJar(`${jar.header()}; ${cookieOf(login)}`);
    const back = await follow(new URL(returnTo, issuer).href, signedIn, issuer);
    const tokens = await client.authorizationCodeGrant(rp.config, new URL(back.url), { pkceCodeVerifier: started.codeVerifier, expectedState: started.state, expectedNonce: started.nonce });
    assert.equal(decodeJwt(tokens.id_token!).header.kid, newKey.kid, 'signed with the new key');

    // Both workers publish both keys: the old one for its grace period.
    const workers = new Set<string>();
    for (let i = 0; i < 20 && (i < 2 || workers.size < 2); i++) {
      const jwks = await request(server.port, 'GET', '/oidc/jwks');
      workers.add(jwks.worker!);
      const kids = (jwks.body as JSONWebKeySet).keys.map((k) => k.kid);
      assert.ok(kids.includes(oldKid) && kids.includes(newKey.kid), kids.join(' '));
      const keySet = createLocalJWKSet(jwks.body as JSONWebKeySet);
      for (const token of [signedBefore, tokens.id_token!]) await jwtVerify(token, keySet, { issuer, audience: app.client_id });
    }
    assert.equal(workers.size, 2);
  });

  it('back-channel logout: an app that registered a URI is sent a signed logout token for the account and session when the person signs out through another app', async () => {
    const received: Array<{ contentType: string | undefined; body: string }> = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        if (req.url === '/broken') return void res.writeHead(500).end();
        received.push({ contentType: req.headers['content-type'], body });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
      const notified = await registerApp(server.port, admin, { name: 'Homework', first_party: true, redirect_uris: [CALLBACK], backchannel_logout_uri: `${receiverUrl}/backchannel-logout` });
      const broken = await registerApp(server.port, admin, { name: 'Broken', first_party: true, redirect_uris: [CALLBACK], backchannel_logout_uri: `${receiverUrl}/broken` });
      const other = await registerApp(server.port, admin, { name: 'Wiki', first_party: true, redirect_uris: [CALLBACK], post_logout_redirect_uris: [POST_LOGOUT] });
      const account = await newAccount(server.port, server.invitationCode);
      const jar = new CookieJar(account.cookie);
      const notifiedClaims = (await signInSilently(await relyingParty(issuer, notified.client_id, notified.client_secret, CALLBACK), jar, issuer)).tokens.claims()!;
      await signInSilently(await relyingParty(issuer, broken.client_id, broken.client_secret, CALLBACK), jar, issuer);
      const rpOther = await relyingParty(issuer, other.client_id, other.client_secret, CALLBACK);
      const otherTokens = (await signInSilently(rpOther, jar, issuer)).tokens;

      // Signing out through the Wiki, confirmed on Gatehouse's page.
      const logoutUrl = client.buildEndSessionUrl(rpOther.config, { id_token_hint: otherTokens.id_token!, post_logout_redirect_uri: POST_LOGOUT });
      const confirmation = await fetch(logoutUrl, { headers: { cookie: jar.header() } });
      jar.take(confirmation);
      const html = await confirmation.text();
      const action = /action="([^"]+)"/.exec(html)![1]!;
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
      const confirmed = await fetch(new URL(action, issuer), {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ xsrf, logout: 'yes' }),
      });
      assert.equal(confirmed.status, 303);
      assert.equal(confirmed.headers.get('location'), POST_LOGOUT);

      for (let i = 0; i < 100 && received.length === 0; i++) await sleep(50);
      assert.equal(received.length, 1, 'one logout token, to the app that asked for them');
      assert.match(received[0]!.contentType ?? '', /^application\/x-www-form-urlencoded/);
      const logoutToken = new URLSearchParams(received[0]!.body).get('logout_token')!;
      const { payload } = await jwtVerify(logoutToken, createRemoteJWKSet(new URL(`${issuer}/oidc/jwks`)), { issuer, audience: notified.client_id, typ: 'logout+jwt', maxTokenAge: '2m' });
      assert.deepEqual(payload.events, { [BACKCHANNEL_LOGOUT_EVENT]: {} });
      assert.equal(payload.sub, notifiedClaims.sub);
      assert.ok(payload.sid, 'the token names the session');
      assert.equal(payload.sid, notifiedClaims.sid);
      assert.equal(payload.nonce, undefined, 'a logout token never carries a nonce');
      assert.ok(payload.jti);

      // An app that could not be told (it answered 500) is in the server's log, for the operator.
      const failure = new RegExp(`"client_id":"${broken.client_id}".*back-channel logout failed`);
      for (let i = 0; i < 100 && !failure.test(server.output()); i++) await sleep(50);
      assert.match(server.output(), failure);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
