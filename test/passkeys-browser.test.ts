/// <reference lib="dom" />
// Passkeys in Chromium, on the real login and account pages of one `gatehouse serve --workers 2`,
// with DevTools' virtual authenticators (the WebAuthn domain) standing in for a phone's or laptop's
// passkey store (discoverable credentials, user verification) and for a security key that keeps no
// record of accounts. Added from the account page; signed in username-less with the login page's
// button, and by phone number for the security key; a replayed assertion, another origin in the signed
// client data and a deleted passkey are refused. On the embedded default and on PostgreSQL with Redis. WebAuthn needs a domain for its relying-party id:
// PUBLIC_URL is http://localhost:PORT, never 127.0.0.1.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { axeViolations, launchBrowser } from './helpers/browser.js';
import { freePort, registerThrough, request, runCli, startServer, uniquePhone, type ServerProcess } from './helpers/cluster.js';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js';
import { TEST_REDIS_URL, uniquePrefix } from './helpers/redis.js';
import { unmet } from './helpers/requirements.js';

/** What a browser logs of a signed-out visitor (the pages ask who is signed in: 401), of refusals the pages explain, and of a request the test held back. */
const EXPECTED_CONSOLE = /status of (400|401|404)|net::ERR_FAILED/;

// The embedded default (SQLite files), and PostgreSQL with Redis as the shared store.
for (const setup of ['SQLite', 'PostgreSQL + Redis'] as const) describe(`passkeys in Chromium with a virtual authenticator, across two workers (${setup})`, { skip: setup === 'SQLite' ? await unmet('chromium') : await unmet('chromium', 'postgres', 'redis') }, () => {
  let database: TestDatabase | undefined;
  /** What the server and its command line are given besides DATA_DIR: the database and the shared store. */
  let scaledOut: Record<string, string> = {};
  let server: ServerProcess;
  let origin: string;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;
  const problems: string[] = [];

  before(async () => {
    const port = await freePort();
    origin = `http://localhost:${port}`;
    database = setup === 'SQLite' ? undefined : await createTestDatabase('passkeys_browser');
    scaledOut = database ? { DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: uniquePrefix('passkeys') } : {};
    server = await startServer({ workers: 2, port, env: { PUBLIC_URL: origin, ...scaledOut } });
    ({ browser, close: closeBrowser } = await launchBrowser());
  });
  after(async () => {
    await closeBrowser?.();
    await server?.stop();
    await database?.drop();
    assert.deepEqual(problems, [], 'no page threw or logged an unexpected error');
  });

  /** A page with its own virtual authenticator: a platform one keeping discoverable passkeys, or a security key that keeps none. */
  async function newPage(options: { locale?: string; residentKeys?: boolean; autofill?: boolean } = {}): Promise<{ page: Page; cdp: CDPSession; authenticatorId: string }> {
    // bypassCSP: axe-core is injected into the pages.
    const context = await browser.newContext({ locale: options.locale ?? 'en', bypassCSP: true });
    const page = await context.newPage();
    // A browser without passkey autofill (conditional UI): the login page's button is the way.
    if (options.autofill === false) await page.addInitScript({ content: "Object.defineProperty(PublicKeyCredential, 'isConditionalMediationAvailable', { value: async () => false });" });
    page.on('pageerror', (error) => problems.push(`${page.url()}: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && !EXPECTED_CONSOLE.test(message.text())) problems.push(`${page.url()}: ${message.text()}`);
    });
    page.on('dialog', (dialog) => void dialog.accept());
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const resident = options.residentKeys ?? true;
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: resident
        ? { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true }
        : { protocol: 'ctap2', transport: 'usb', hasResidentKey: false, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    return { page, cdp, authenticatorId };
  }

  /** A new account, its session put in the page's cookies (as if it had just registered there). */
  async function signedInAccount(page: Page): Promise<{ phone: string; e164: string }> {
    const phone = uniquePhone();
    const res = await registerThrough(server.port, server.invitationCode, phone);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const session = (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]!).find((c) => c.startsWith('gatehouse_session='))!;
    await page.context().addCookies([{ name: 'gatehouse_session', value: session.slice('gatehouse_session='.length), url: origin }]);
    return { phone, e164: (res.body as { user: { phone: string } }).user.phone };
  }

  async function addPasskey(page: Page, name: string): Promise<void> {
    await page.goto(`${origin}/account`);
    await page.locator('#f-passkey-name').waitFor();
    await page.fill('#f-passkey-name', name);
    await page.click('#passkeys button[type=submit]');
    await page.locator('#passkeys h3', { hasText: name }).waitFor();
  }

  async function signedInPhone(page: Page): Promise<string | null> {
    const me = await page.evaluate(async () => {
      const res = await fetch('/api/auth/me');
      return res.ok ? ((await res.json()) as { user: { phone: string } }).user.phone : null;
    });
    return me;
  }

  /**
   * Signs out and opens the login page. Where the browser has autofill, the authenticator's
   * discoverable passkey answers the page's conditional request by itself (the virtual authenticator
   * simulates the person's touch): that is the username-less sign-in. With `button`, the page's button
   * is clicked (after typing `phone`, if given).
   */
  async function openLogin(page: Page, options: { button?: boolean; phone?: string } = {}): Promise<void> {
    await page.context().clearCookies();
    await page.goto(`${origin}/login`);
    if (!options.button) return;
    await page.locator('button.passkey-sign-in').waitFor();
    if (options.phone) await page.fill('#f-phone', options.phone);
    await page.click('button.passkey-sign-in');
  }

  it('adds a passkey on the account page and signs in with it username-less from the autofill; the account page passes axe-core', async () => {
    const { page, cdp, authenticatorId } = await newPage();
    const { e164 } = await signedInAccount(page);
    await addPasskey(page, 'Laptop');
    assert.deepEqual((await axeViolations(page)).map((v) => v.id), [], 'the account page passes axe-core');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0]!.isResidentCredential, true, 'a discoverable passkey');

    await openLogin(page);
    await page.waitForURL(`${origin}/account`);
    assert.equal(await signedInPhone(page), e164);
    // The account page shows it used just now.
    await page.locator('#passkeys .hint', { hasText: 'Last used' }).first().waitFor();
    await page.context().close();
  });

  it("signs in username-less with the button where the browser has no autofill", async () => {
    const { page } = await newPage({ autofill: false });
    const { e164 } = await signedInAccount(page);
    await addPasskey(page, 'Tablet');
    await openLogin(page, { button: true });
    await page.waitForURL(`${origin}/account`);
    assert.equal(await signedInPhone(page), e164);
    await page.context().close();
  });

  it('signs in by phone number with a security key that keeps no record of the account', async () => {
    const { page, cdp, authenticatorId } = await newPage({ residentKeys: false });
    const { phone, e164 } = await signedInAccount(page);
    await addPasskey(page, 'Security key');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials[0]!.isResidentCredential, false, 'not discoverable');
    // Its passkey is not offered in the autofill: the login page stays, and the phone number names it.
    await openLogin(page);
    await page.locator('button.passkey-sign-in').waitFor();
    assert.equal(await page.getAttribute('#f-phone', 'autocomplete'), 'username webauthn', 'passkeys offered in the phone field (conditional UI)');
    assert.deepEqual((await axeViolations(page)).map((v) => v.id), [], 'the login page passes axe-core');
    await openLogin(page, { button: true, phone });
    await page.waitForURL(`${origin}/account`);
    assert.equal(await signedInPhone(page), e164);
    await page.context().close();
  });

  it('refuses a replayed assertion and another origin in the signed client data', async () => {
    const { page } = await newPage();
    await signedInAccount(page);
    await addPasskey(page, 'Phone');
    // The page's assertion is held back from the server, then sent by hand: changed, and as it was.
    let held: string | undefined;
    await page.route('**/api/auth/passkeys/authentication', async (route) => {
      held = route.request().postData() ?? undefined;
      await route.abort();
    });
    await openLogin(page);
    await page.locator('.form-error', { hasText: /\S/ }).first().waitFor();
    assert.ok(held, 'the page sent an assertion');
    const assertion = JSON.parse(held) as { response: { clientDataJSON: string } };
    const clientData = JSON.parse(Buffer.from(assertion.response.clientDataJSON, 'base64url').toString());
    const forged = { ...assertion, response: { ...assertion.response, clientDataJSON: Buffer.from(JSON.stringify({ ...clientData, origin: 'https://evil.example' })).toString('base64url') } };
    const refused = await request(server.port, 'POST', '/api/auth/passkeys/authentication', { body: forged });
    assert.equal(refused.status, 401);
    assert.equal((refused.body as { error: { code: string } }).error.code, 'PASSKEY_INVALID', 'another origin');
    const replayed = await request(server.port, 'POST', '/api/auth/passkeys/authentication', { body: assertion });
    assert.equal((replayed.body as { error: { code: string } }).error.code, 'PASSKEY_CHALLENGE_INVALID', 'its challenge was used');
    await page.unroute('**/api/auth/passkeys/authentication');

    // A genuine one, then the same body again (sent from the other worker as often as not): refused.
    let sent: string | undefined;
    page.on('request', (req) => {
      if (req.url().endsWith('/api/auth/passkeys/authentication')) sent = req.postData() ?? undefined;
    });
    await openLogin(page);
    await page.waitForURL(`${origin}/account`);
    for (let i = 0; i < 2; i++) {
      const again = await request(server.port, 'POST', '/api/auth/passkeys/authentication', { body: JSON.parse(sent!) });
      assert.equal((again.body as { error: { code: string } }).error.code, 'PASSKEY_CHALLENGE_INVALID', 'a replayed assertion');
    }
    await page.context().close();
  });

  it('a deleted passkey no longer signs in; the pages speak Chinese too', async () => {
    const { page } = await newPage({ locale: 'zh-CN', autofill: false });
    await signedInAccount(page);
    await addPasskey(page, '办公室电脑');
    assert.equal(await page.textContent('#passkeys-h'), '通行密钥');
    await page.click('#passkeys li button:has-text("删除")');
    await page.locator('#passkeys .passkeys-none').waitFor();
    await openLogin(page, { button: true });
    assert.equal(await page.textContent('button.passkey-sign-in'), '使用通行密钥登录');
    await page.locator('.form-error', { hasText: '未登记' }).first().waitFor();
    assert.equal(await signedInPhone(page), null);
    await page.context().close();
  });

  it('an administrator with a passkey and no authenticator app confirms with it when the console asks for a second factor', async () => {
    const { page } = await newPage({ autofill: false });
    const { e164 } = await signedInAccount(page);
    await addPasskey(page, 'Admin laptop');
    const promoted = await runCli(['user', 'set-role', '--phone', e164, '--role', 'admin'], { DATA_DIR: server.dataDir, ...scaledOut });
    assert.equal(promoted.code, 0, promoted.stderr);
    // Signed in with a password: the console asks for a second factor, and the dialog offers the passkey.
    await page.goto(`${origin}/admin`);
    const withPasskey = page.locator('dialog.reauth button', { hasText: 'Confirm with a passkey' });
    await withPasskey.waitFor();
    assert.deepEqual((await axeViolations(page)).map((v) => v.id), [], 'the dialog passes axe-core');
    const opened = page.waitForResponse((res) => res.url().includes('/api/admin/audit?limit=1') && res.status() === 200);
    await withPasskey.click();
    await opened;
    await page.locator('dialog.reauth').waitFor({ state: 'detached' });
    await page.context().close();
  });
});
