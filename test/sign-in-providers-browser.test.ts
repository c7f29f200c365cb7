/// <reference lib="dom" />
// Teachers signing in with WeChat, WeCom, DingTalk, Feishu and a school's OpenID Connect system, in
// Chromium, on the real login and continue pages of one `gatehouse serve --workers 2` (with a task
// worker: the SMS codes are delivered to the console outbox). Each provider is a local stand-in that
// implements its documented endpoints (test/helpers/upstream/); the OpenID Connect provider is another
// Gatehouse, in this test's process. The administrator sets each one up with `gatehouse providers set`,
// as docs/sign-in-providers.md says. For each: the first sign-in proves a phone by SMS and registers
// (or links to the account with that phone), the next one signs straight in; a provider that does not
// answer ends on the login page with words, not an error page.
import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { axeViolations, launchBrowser } from './helpers/browser.js';
import { createTestApp, register, TEST_PASSWORD, type TestApp } from './helpers/app.js';
import { freePort, runCli, startServer, uniquePhone, type ServerProcess } from './helpers/cluster.js';
import { unmet } from './helpers/requirements.js';
import { newAccount } from './helpers/sso.js';
import { startDingTalkStandIn, type DingTalkStandIn } from './helpers/upstream/dingtalk-stand-in.js';
import { startFeishuStandIn, type FeishuStandIn } from './helpers/upstream/feishu-stand-in.js';
import { startWeChatStandIn, type WeChatStandIn } from './helpers/upstream/wechat-stand-in.js';
import { startWeComStandIn, type WeComStandIn } from './helpers/upstream/wecom-stand-in.js';

/**
 * What a browser logs of a signed-out visitor (the pages ask who is signed in: 401), of a pending
 * sign-in that is over (404), and of the providers' avatars, whose CDNs this machine cannot reach.
 */
const EXPECTED_CONSOLE = /status of (401|404)|ERR_NAME_NOT_RESOLVED/;

/** The code the console SMS provider wrote to the server's outbox for this phone (read from its SQLite file). */
async function outboxCode(dataDir: string, phone: string, after: number): Promise<string> {
  const db = new Database(path.join(dataDir, 'gatehouse.sqlite'), { readonly: true });
  try {
    for (let i = 0; i < 200; i++) {
      const row = db.prepare("SELECT message FROM sms_outbox WHERE phone LIKE ? AND purpose = 'link_identity' AND id > ? ORDER BY id DESC LIMIT 1").get(`%${phone}`, after) as { message: string } | undefined;
      if (row) return /(\d{6})/.exec(row.message)![1]!;
      await sleep(50);
    }
  } finally {
    db.close();
  }
  throw new Error(`no SMS for ${phone}`);
}

function lastOutboxId(dataDir: string): number {
  const db = new Database(path.join(dataDir, 'gatehouse.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM sms_outbox').get() as { id: number }).id;
  } finally {
    db.close();
  }
}

describe('signing in with WeChat, WeCom, DingTalk, Feishu and OpenID Connect in Chromium, across two workers', { skip: await unmet('chromium') }, () => {
  let server: ServerProcess;
  let origin: string;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;
  let wechat: WeChatStandIn;
  let wecom: WeComStandIn;
  let dingtalk: DingTalkStandIn;
  let feishu: FeishuStandIn;
  let upstream: { t: TestApp; issuer: string; phone: string; password: string };
  const problems: string[] = [];

  before(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    server = await startServer({ workers: 2, port, env: { PUBLIC_URL: origin, TASK_WORKERS: '1' } });
    const cli = { DATA_DIR: server.dataDir };
    wechat = await startWeChatStandIn({ user: { openid: 'o-web-zhang', unionid: 'u-zhang', nickname: '张老师的微信', headimgurl: 'https://thirdwx.qlogo.cn/zhang/132' } });
    wecom = await startWeComStandIn({ user: { userid: 'liwei', name: '李伟' } });
    dingtalk = await startDingTalkStandIn();
    feishu = await startFeishuStandIn();
    // The school's identity system: another Gatehouse (its own session cookie name: both run on 127.0.0.1).
    const upstreamPort = await freePort();
    const issuer = `http://127.0.0.1:${upstreamPort}`;
    const t = await createTestApp({ PUBLIC_URL: issuer, SESSION_COOKIE_NAME: 'school_session', ADMIN_REQUIRE_TWO_FACTOR: 'false' });
    await t.app.listen({ port: upstreamPort, host: '127.0.0.1' });
    const phone = uniquePhone();
    const registered = await register(t, { phone, name: '赵老师' });
    assert.equal(registered.statusCode, 201, registered.body);
    upstream = { t, issuer, phone, password: TEST_PASSWORD };
    const clientRow = await registerUpstreamClient(t, `${origin}/api/auth/providers/oidc/callback`);

    // The operator sets each provider up from the command line (the secret on standard input).
    const set = async (name: string, appId: string, secret: string, flags: string[]) => {
      const res = await runCli(['providers', 'set', name, '--app-id', appId, '--app-secret-stdin', ...flags], cli, `${secret}\n`);
      assert.equal(res.code, 0, `${name}: ${res.stderr}`);
    };
    await set('wechat', wechat.appId, wechat.appSecret, ['--authorize-url', wechat.url, '--api-url', wechat.url]);
    await set('wecom', wecom.corpId, wecom.corpSecret, ['--authorize-url', wecom.url, '--api-url', wecom.url, '--extra', `agent_id=${wecom.agentId}`]);
    // DingTalk is bound to the school's organization: its teachers register without an invitation code.
    await set('dingtalk', dingtalk.clientId, dingtalk.clientSecret, ['--authorize-url', dingtalk.url, '--api-url', dingtalk.url, '--organization', '1']);
    await set('feishu', feishu.clientId, feishu.clientSecret, ['--authorize-url', feishu.url, '--api-url', feishu.url]);
    await set('oidc', clientRow.clientId, clientRow.secret, ['--extra', `issuer=${issuer}`, '--extra', 'display_name=School ID']);
    ({ browser, close: closeBrowser } = await launchBrowser());
  });
  after(async () => {
    await closeBrowser?.();
    await Promise.all([wechat?.close(), wecom?.close(), dingtalk?.close(), feishu?.close()]);
    await upstream?.t.close();
    await server?.stop();
    assert.deepEqual(problems, [], 'no page threw or logged an unexpected error');
  });

  async function registerUpstreamClient(t: TestApp, redirectUri: string): Promise<{ clientId: string; secret: string }> {
    const phone = uniquePhone();
    const res = await register(t, { phone });
    await t.database.db.updateTable('users').set({ role: 'admin' }).where('phone', 'like', `%${phone}`).execute();
    const cookie = `school_session=${res.cookies.find((c) => c.name === 'school_session')!.value}`;
    const created = await t.app.inject({ method: 'POST', url: '/api/admin/oidc/clients', headers: { cookie }, payload: { name: 'Gatehouse', redirect_uris: [redirectUri], first_party: true } });
    assert.equal(created.statusCode, 201, created.body);
    return { clientId: created.json().client.client_id, secret: created.json().client_secret };
  }

  async function newPage(): Promise<Page> {
    // bypassCSP: axe-core is injected into the pages.
    const context = await browser.newContext({ locale: 'en', bypassCSP: true });
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`${page.url()}: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && !EXPECTED_CONSOLE.test(message.text())) problems.push(`${page.url()}: ${message.text()}`);
    });
    return page;
  }

  /** From the login page, through the provider's page, back to Gatehouse: where the browser lands. */
  async function clickProvider(page: Page, name: string): Promise<URL> {
    await page.goto(`${origin}/login`);
    const button = page.locator(`a.provider-button[href^="/api/auth/providers/${name}/start"]`);
    await button.waitFor();
    await button.click();
    await page.waitForURL((url) => url.origin === origin && !url.pathname.startsWith('/api/') && url.pathname !== '/login' || url.searchParams.has('sign_in_error') || url.origin === upstream.issuer);
    return new URL(page.url());
  }

  /** The continue page's phone step: the captcha, the SMS code from the outbox, then the answer. */
  async function provePhone(page: Page, phone: string): Promise<void> {
    await page.locator('#f-phone').waitFor();
    await page.fill('#f-phone', phone);
    await page.waitForFunction(() => (document.querySelector('.captcha-image') as HTMLImageElement | null)?.src.startsWith('data:image/png'));
    await page.fill('#f-captcha', 'TEST');
    const since = lastOutboxId(server.dataDir);
    await page.click('.send-code');
    await page.fill('#f-code', await outboxCode(server.dataDir, phone, since));
    await page.click('button[type=submit]');
  }

  async function signedInName(page: Page): Promise<string> {
    const me = await page.evaluate(async () => (await fetch('/api/auth/me')).json());
    return (me as { user: { name: string } }).user.name;
  }

  it('the login page offers each enabled provider by name, and passes axe-core', async () => {
    const page = await newPage();
    await page.goto(`${origin}/login`);
    await page.locator('a.provider-button').first().waitFor();
    const labels = await page.locator('a.provider-button').allTextContents();
    // Outside WeChat's own browser the in-app login (wechat_mp) is not offered; it is not set up here anyway.
    for (const label of ['WeChat', 'WeCom', 'DingTalk', 'Feishu', 'School ID']) assert.ok(labels.some((text) => text.includes(label)), `${label} in ${labels.join(', ')}`);
    assert.deepEqual((await axeViolations(page)).map((v) => v.id), []);
    await page.context().close();
  });

  for (const provider of ['wecom', 'feishu'] as const) {
    it(`${provider}: a teacher's first sign-in registers with an invitation code after proving a phone; the next signs straight in`, async () => {
      const page = await newPage();
      const landed = await clickProvider(page, provider);
      assert.equal(landed.pathname, '/sign-in/continue');
      const phone = uniquePhone();
      await provePhone(page, phone);
      await page.locator('#f-invitation_code').waitFor();
      assert.deepEqual((await axeViolations(page)).map((v) => v.id), [], 'the continue page passes axe-core');
      assert.notEqual(await page.inputValue('#f-name'), '', "the name is the provider's");
      await page.fill('#f-invitation_code', server.invitationCode);
      await Promise.all([page.waitForURL(`${origin}/account`), page.click('button[type=submit]')]);
      const name = await signedInName(page);
      // The account page lists the linked account.
      await page.locator('#sign-in-accounts').getByText(provider === 'wecom' ? 'WeCom' : 'Feishu', { exact: false }).first().waitFor();
      // Signed out, the provider alone signs the teacher in again.
      await page.context().clearCookies();
      const again = await clickProvider(page, provider);
      assert.equal(again.pathname, '/account');
      assert.equal(await signedInName(page), name);
      await page.context().close();
    });
  }

  it('dingtalk: bound to the school, a first sign-in registers without an invitation code', async () => {
    const page = await newPage();
    assert.equal((await clickProvider(page, 'dingtalk')).pathname, '/sign-in/continue');
    await provePhone(page, uniquePhone());
    await page.locator('#f-name').waitFor();
    assert.equal(await page.isVisible('#f-invitation_code'), false, 'no invitation code asked');
    await Promise.all([page.waitForURL(`${origin}/account`), page.click('button[type=submit]')]);
    assert.equal(await signedInName(page), '张老师');
    await page.context().close();
  });

  it("wechat: a first sign-in with an existing account's phone links to it and signs it in", async () => {
    const account = await newAccount(server.port, server.invitationCode, '张老师');
    const page = await newPage();
    assert.equal((await clickProvider(page, 'wechat')).pathname, '/sign-in/continue');
    // The continue page names the WeChat account it came back with (once it has asked the server).
    await page.locator('main').getByText('张老师的微信', { exact: false }).waitFor();
    await provePhone(page, account.phone);
    await page.waitForURL(`${origin}/account`);
    assert.equal(await signedInName(page), '张老师');
    await page.context().clearCookies();
    assert.equal((await clickProvider(page, 'wechat')).pathname, '/account');
    await page.context().close();
  });

  it("oidc: the school's identity system signs the teacher in on its own login page, then Gatehouse links the account", async () => {
    const page = await newPage();
    const atSchool = await clickProvider(page, 'oidc');
    assert.equal(atSchool.origin, upstream.issuer, 'the school system asks its own sign-in');
    await page.fill('#f-phone', upstream.phone);
    await page.fill('#f-password', upstream.password);
    await page.waitForFunction(() => (document.querySelector('.captcha-image') as HTMLImageElement | null)?.src.startsWith('data:image/png'));
    await page.fill('#f-captcha', 'TEST');
    await Promise.all([page.waitForURL(`${origin}/sign-in/continue`), page.click('button[type=submit]')]);
    await page.locator('main').getByText('赵老师', { exact: false }).waitFor();
    await provePhone(page, uniquePhone());
    await page.fill('#f-invitation_code', server.invitationCode);
    await Promise.all([page.waitForURL(`${origin}/account`), page.click('button[type=submit]')]);
    assert.equal(await signedInName(page), '赵老师');
    await page.context().close();
  });

  it('a provider that does not answer ends on the login page with a message in words, and signs no one in', async () => {
    const page = await newPage();
    await page.goto(`${origin}/login`);
    const start = await page.getAttribute('a.provider-button[href^="/api/auth/providers/feishu/start"]', 'href');
    // The provider's page answers; its API is down by the time the browser comes back.
    const authorize = await fetch(new URL(start!, origin), { redirect: 'manual' });
    const cookies = authorize.headers.getSetCookie().map((c) => c.split(';')[0]!);
    await page.context().addCookies(cookies.map((pair) => ({ name: pair.split('=')[0]!, value: pair.slice(pair.indexOf('=') + 1), url: `${origin}/api/auth/providers/` })));
    const back = await fetch(authorize.headers.get('location')!, { redirect: 'manual' });
    feishu.setOutage('http-502');
    try {
      await page.goto(back.headers.get('location')!);
      await page.waitForURL((url) => url.searchParams.get('sign_in_error') === 'UPSTREAM_UNAVAILABLE' || url.pathname === '/login');
      const alert = page.locator('[role=alert]').filter({ hasText: /Feishu/ });
      await alert.waitFor();
      assert.match((await alert.textContent()) ?? '', /try again later|later/i);
      const me = await page.evaluate(async () => (await fetch('/api/auth/me')).status);
      assert.equal(me, 401);
    } finally {
      feishu.setOutage('none');
    }
    await page.context().close();
  });
});

