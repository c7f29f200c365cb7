/// <reference lib="dom" />
// The pages in a real headless Chromium against `gatehouse serve --workers 2`: register through an
// invitation link, log out, a wrong password (attempts left shown), log in, revoke a session from
// another browser (which logs that one out), an SMS-code login; the header signed out and signed in,
// sign-in pages sending a signed-in visitor on, a registration link's preview, plurals in both
// languages, the login form by keyboard alone; axe-core on every page; screenshots of each page into
// docs/screenshots/.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, axeViolations } from './helpers/browser.js';
import Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import jsQRModule from 'jsqr';
import { Secret, TOTP } from 'otpauth';
import { loginThrough, registerThrough, ROOT, runCli, startServer, uniquePhone, type ServerProcess } from './helpers/cluster.js';
import { unmet } from './helpers/requirements.js';

/** The code an authenticator app shows for `secret`, `stepsAhead` periods of 30 s from now. */
function totpCode(secret: string, stepsAhead = 0): string {
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({ timestamp: Date.now() + stepsAhead * 30_000 });
}

// jsqr is CommonJS; its function is also its `default` export, which is what TypeScript sees.
const jsQR = jsQRModule.default;

const SCREENSHOTS = path.join(ROOT, 'docs/screenshots');
const PASSWORD = 'a long workshop passphrase';

/** The code the console SMS provider wrote to the server's outbox for this phone (read from its SQLite file). */
async function outboxCode(dataDir: string, phone: string): Promise<string> {
  const db = new Database(path.join(dataDir, 'gatehouse.sqlite'), { readonly: true });
  try {
    for (let i = 0; i < 200; i++) {
      const row = db.prepare("SELECT message FROM sms_outbox WHERE phone LIKE ? ORDER BY id DESC LIMIT 1").get(`%${phone}`) as { message: string } | undefined;
      if (row) return /(\d{6})/.exec(row.message)![1]!;
      await sleep(50);
    }
  } finally {
    db.close();
  }
  throw new Error(`no SMS for ${phone}`);
}

describe('pages in a real browser', { skip: await unmet('chromium') }, () => {
  let server: ServerProcess;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;
  let base: string;
  const pageErrors: string[] = [];

  before(async () => {
    server = await startServer({ workers: 2, env: { TASK_WORKERS: '1', TASK_POLL_MS: '50' } });
    base = `http://127.0.0.1:${server.port}`;
    ({ browser, close: closeBrowser } = await launchBrowser());
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  after(async () => {
    await closeBrowser?.();
    await server?.stop();
    assert.deepEqual(pageErrors, [], 'no script errors and no failed loads other than expected API refusals');
  });

  /**
   * The API's refusals that the browser logs as failed loads and a test expects (a wrong password; no
   * session yet — every page's header asks who is signed in).
   */
  const EXPECTED_REFUSALS = /status of (400|401|423|429)/;
  /** The console's first request, refused with 403 TWO_FACTOR_SETUP_REQUIRED while the administrator has no second factor. */
  const WITH_TWO_FACTOR_SETUP = /status of (400|401|403|423|429)/;

  /** A page in a new browser context; `bypassCSP` lets axe-core inject its script. */
  async function newPage(locale = 'zh-CN', expectedRefusals = EXPECTED_REFUSALS, bypassCSP = false): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ locale, bypassCSP });
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && !expectedRefusals.test(message.text())) pageErrors.push(`${page.url()}: ${message.text()}`);
    });
    return { context, page };
  }

  async function fillCaptcha(page: Page) {
    await page.waitForFunction(() => (document.querySelector('.captcha-image') as HTMLImageElement | null)?.src.startsWith('data:image/png'));
    await page.fill('#f-captcha', 'TEST');
  }

  /** Fills the registration form (the invitation code comes from the page's link) and its captcha. */
  async function fillRegistration(page: Page, name: string, phone: string, password = PASSWORD) {
    await page.fill('#f-name', name);
    await page.fill('#f-phone', phone);
    await page.fill('#f-password', password);
    await fillCaptcha(page);
  }

  /** Signs in on /login with phone and password, and waits for the account page. */
  /** Signs in at the login page; with `totpSecret`, through the second step too (with the next period's code: this one's may be used). */
  async function signIn(page: Page, phone: string, totpSecret?: string) {
    await page.goto(`${base}/login`);
    await page.fill('#f-phone', phone);
    await page.fill('#f-password', PASSWORD);
    await fillCaptcha(page);
    if (totpSecret === undefined) return void (await Promise.all([page.waitForURL(`${base}/account`), page.click('button[type=submit]')]));
    await page.click('button[type=submit]');
    await page.fill('#f-code', totpCode(totpSecret, 1));
    await Promise.all([page.waitForURL(`${base}/account`), page.click('form.second-factor button[type=submit]')]);
  }

  /** Turns on two-factor sign-in on the account page, as an administrator sent there by the console does; the secret. */
  async function turnOnTwoFactor(page: Page): Promise<string> {
    await page.fill('#f-2fa-password', PASSWORD);
    await page.click('section[aria-labelledby=two-factor-h] button[type=submit]');
    await page.waitForSelector('code.two-factor-key');
    const secret = (await page.textContent('code.two-factor-key'))!.replace(/\s/g, '');
    await page.fill('#f-2fa-code', totpCode(secret));
    await page.click('section[aria-labelledby=two-factor-h] button[type=submit]');
    await page.waitForSelector('ol.recovery-codes li');
    return secret;
  }

  it('register by link → log out → wrong password shows attempts left → log in → account', async () => {
    const { context, page } = await newPage('zh-CN');
    const phone = uniquePhone();
    await page.goto(`${base}/register?code=${server.invitationCode}`);
    assert.equal(await page.inputValue('#f-invitation_code'), server.invitationCode, 'the code comes from the link');
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    // The link names its organization before anyone types.
    await page.waitForFunction(() => (document.querySelector('p.invitation')?.textContent ?? '') !== '');
    assert.match(await page.textContent('p.invitation') ?? '', /^注册加入：/);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'register.png') });
    await fillRegistration(page, '张老师', phone, 'short');
    await page.click('button[type=submit]');
    await page.waitForSelector('#f-password[aria-invalid=true]');
    assert.match(await page.textContent('#f-password-error') ?? '', /密码太弱/, 'the error appears next to its field, in Chinese');
    await page.fill('#f-password', PASSWORD);
    await fillCaptcha(page);
    await Promise.all([page.waitForURL(`${base}/account`), page.click('button[type=submit]')]);
    await page.waitForSelector('.sessions li');
    assert.match(await page.textContent('main') ?? '', /张老师/);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'account.png') });

    await Promise.all([page.waitForURL(`${base}/login`), page.click('button:text-is("退出登录")')]);
    await page.fill('#f-phone', phone);
    await page.fill('#f-password', 'not my password at all');
    await fillCaptcha(page);
    await page.click('button[type=submit]');
    await page.waitForFunction(() => (document.querySelector('#f-password-error')?.textContent ?? '').length > 0);
    assert.match(await page.textContent('#f-password-error') ?? '', /还可再试 4 次/);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'login-wrong-password.png') });
    await page.fill('#f-password', PASSWORD);
    await fillCaptcha(page);
    await Promise.all([page.waitForURL(`${base}/account`), page.click('button[type=submit]')]);
    await context.close();
  });

  it('a registration refused with 503 OVERLOADED is sent again by itself, with the same captcha', async () => {
    const { context, page } = await newPage('en', /status of (401|503)/);
    const sent: Array<{ captcha_id: string }> = [];
    // The first answer is the server's overload refusal (tested against real overload in burst.test.ts);
    // the retry goes through to the server.
    await page.route('**/api/auth/register', async (route) => {
      sent.push(route.request().postDataJSON());
      if (sent.length > 1) return route.continue();
      return route.fulfill({
        status: 503,
        headers: { 'retry-after': '1', 'content-type': 'application/json' },
        body: JSON.stringify({ error: { code: 'OVERLOADED', message: 'The server is busy; try again in a moment.' } }),
      });
    });
    await page.goto(`${base}/register?code=${server.invitationCode}`);
    await fillRegistration(page, 'Teacher Wang', uniquePhone());
    await page.click('button[type=submit]');
    await page.waitForFunction(() => (document.querySelector('.busy')?.textContent ?? '').includes('busy'));
    await page.waitForURL(`${base}/account`);
    assert.equal(sent.length, 2);
    assert.equal(sent[1]!.captcha_id, sent[0]!.captcha_id, 'the unused captcha is sent again');
    await context.close();
  });

  it('a 429 on the whole network tells the teacher to ask the organizer; one on the account does not', async () => {
    const { context, page } = await newPage('en', /status of (401|429)/);
    // The server's 429 bodies, as test/limits.test.ts checks them: which limit, and what it counts.
    let limit = { limit: 'register_ip', scope: 'address' };
    await page.route('**/api/auth/register', (route) =>
      route.fulfill({ status: 429, headers: { 'retry-after': '300', 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'RATE_LIMITED', message: 'Too many requests; try again later.', ...limit } }) }),
    );
    await page.goto(`${base}/register?code=${server.invitationCode}`);
    await fillRegistration(page, 'Teacher Wang', uniquePhone());
    await page.click('button[type=submit]');
    await page.waitForFunction(() => (document.querySelector('.form-error')?.textContent ?? '') !== '');
    assert.match(await page.textContent('.form-error') ?? '', /^Too many requests from this network\. Try again in 5 minutes\. .*ask the organizer .*"Rate limits"/);
    limit = { limit: 'login_account', scope: 'account' };
    await fillCaptcha(page);
    await page.click('button[type=submit]');
    await page.waitForFunction(() => /^Too many requests\. /.test(document.querySelector('.form-error')?.textContent ?? ''));
    assert.equal(await page.textContent('.form-error'), 'Too many requests. Try again in 5 minutes.');
    await context.close();
  });

  it('a session revoked from another browser logs that browser out; so does "sign out all other devices"', async () => {
    const phone = uniquePhone();
    const first = await newPage('en');
    await first.page.goto(`${base}/register?code=${server.invitationCode}`);
    assert.equal(await first.page.getAttribute('html', 'lang'), 'en', 'English for an English browser');
    await fillRegistration(first.page, 'Teacher Li', phone);
    await Promise.all([first.page.waitForURL(`${base}/account`), first.page.click('button[type=submit]')]);

    const second = await newPage('en');
    await signIn(second.page, phone);
    await second.page.waitForSelector('.sessions li button');
    await second.page.click('.sessions li button');
    await second.page.waitForFunction(() => document.querySelectorAll('.sessions li').length === 1);

    await Promise.all([first.page.waitForURL(`${base}/login`), first.page.reload()]);

    // Signed in on two more devices, then "sign out all other devices" from the second.
    const [third, fourth] = [await newPage('en'), await newPage('en')];
    await signIn(third.page, phone);
    await signIn(fourth.page, phone);
    await second.page.reload();
    await second.page.click('button.revoke-others');
    await second.page.waitForFunction(() => document.querySelectorAll('.sessions li').length === 1 && !document.querySelector('button.revoke-others'));
    for (const other of [third, fourth]) await Promise.all([other.page.waitForURL(`${base}/login`), other.page.reload()]);
    await second.page.reload();
    await second.page.waitForSelector('.sessions li');
    assert.equal(second.page.url(), `${base}/account`, 'this device stays signed in');
    for (const context of [first, second, third, fourth]) await context.context.close();
  });

  it('a lockout says in words how long it lasts, and offers the SMS way in, which lifts it', async () => {
    const phone = uniquePhone();
    assert.equal((await registerThrough(server.port, server.invitationCode, phone, PASSWORD)).status, 201);
    const { context, page } = await newPage('en');
    await page.goto(`${base}/login`);
    for (let attempt = 1; attempt <= 5; attempt++) {
      await page.fill('#f-phone', phone);
      await page.fill('#f-password', `wrong password number ${attempt}`);
      await fillCaptcha(page);
      await page.click('button[type=submit]');
      await page.waitForFunction(() => (document.querySelector('.form-error')?.textContent ?? '') + (document.querySelector('#f-password-error')?.textContent ?? '') !== '');
      // In English's plural: "1 attempt left".
      if (attempt < 5) assert.match(await page.textContent('#f-password-error') ?? '', new RegExp(`${5 - attempt} ${attempt === 4 ? 'attempt' : 'attempts'} left\\.$`));
      if (attempt < 5) assert.equal(await page.isVisible('p.locked-escape'), false, 'no way around a wrong password before a lock');
    }
    assert.match(await page.textContent('.form-error') ?? '', /locked\. Try again in 15 minutes/);

    // The owner need not wait: the page offers the SMS way in, with the number already filled in.
    await Promise.all([page.waitForURL(/\/login\/sms\?phone=/), page.click('p.locked-escape a')]);
    assert.equal(await page.inputValue('#f-phone'), phone);
    await fillCaptcha(page);
    await page.click('button.send-code');
    await page.fill('#f-code', await outboxCode(server.dataDir, phone));
    // The number was never proven (no SMS check at registration): this first SMS sign-in removes the
    // password, which anyone who typed the number could have set, and the account page asks for a new one.
    await Promise.all([page.waitForURL(`${base}/account#password-h`), page.click('button[type=submit]')]);
    await page.waitForSelector('p.needs-password');
    assert.equal(await page.isHidden('#f-current_password'), true, 'no current password to give');
    await page.fill('#f-password', 'a new passphrase of mine');
    await page.click('section[aria-labelledby=password-h] button[type=submit]');
    await page.waitForFunction(() => (document.querySelector('section[aria-labelledby=password-h] .success')?.textContent ?? '') !== '');
    assert.equal((await loginThrough(server.port, phone, PASSWORD)).status, 401, 'the unproven password is gone');
    assert.equal((await loginThrough(server.port, phone, 'a new passphrase of mine')).status, 200, 'the lock is lifted');
    await context.close();
  });

  it('a teacher moves their account to a new phone number, then deletes it: a wrong password is told at its field, a confirmation, then it is gone', async () => {
    const oldPhone = uniquePhone();
    const phone = uniquePhone();
    assert.equal((await registerThrough(server.port, server.invitationCode, oldPhone, PASSWORD)).status, 201);
    const { context, page } = await newPage('zh-CN', EXPECTED_REFUSALS, true);
    await signIn(page, oldPhone);
    await page.waitForSelector('#f-delete-password');
    assert.deepEqual((await axeViolations(page)).map((v) => v.id), [], 'the account page with its phone and deletion forms passes axe-core');

    // The new number: a code sent there, the current password, and the profile shows it.
    await page.fill('#f-new_phone', phone);
    await fillCaptcha(page);
    await page.click('button.send-code');
    await page.waitForFunction(() => (document.querySelector('.sms-sender [role=status]')?.textContent ?? '').includes('秒'));
    await page.fill('#f-phone-code', await outboxCode(server.dataDir, phone));
    await page.fill('#f-phone-password', PASSWORD);
    await page.click('section[aria-labelledby=phone-h] button[type=submit]');
    await page.waitForFunction(() => document.querySelector('main')?.textContent?.includes('手机号已更换'));
    assert.match(await page.textContent('dl') ?? '', new RegExp(`\\+86${phone}`));
    assert.equal((await loginThrough(server.port, oldPhone, PASSWORD)).status, 401, 'the old number no longer signs in');
    const data = await (await page.request.get(new URL((await page.getAttribute('a.data-download', 'href'))!, base).href)).json();
    assert.equal(data.account.phone, `+86${phone}`, 'the data download holds the account as it is now');
    assert.ok(data.security_events.some((e: { event: string }) => e.event === 'phone.changed'));

    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    });
    await page.fill('#f-delete-password', 'not my password at all');
    await page.click('form.danger-zone button[type=submit]');
    await page.waitForSelector('#f-delete-password[aria-invalid=true]');
    assert.match(await page.textContent('#f-delete-password-error') ?? '', /当前密码不正确，还可再试 4 次/);
    await page.fill('#f-delete-password', PASSWORD);
    await page.click('form.danger-zone button[type=submit]');
    await page.waitForFunction(() => document.querySelector('main')?.textContent?.includes('你的账户已删除'));
    assert.equal(dialogs.length, 2, 'each attempt asked for a confirmation first');
    assert.match(dialogs[0]!, /无法撤销/);
    assert.equal((await loginThrough(server.port, phone, PASSWORD)).status, 401, 'the account is gone');
    await Promise.all([page.waitForURL(`${base}/login`), page.goto(`${base}/account`)]);
    await context.close();
  });

  it('two-factor sign-in: turned on from the account page (QR code, a first code, recovery codes), then asked at each login', async () => {
    const phone = uniquePhone();
    assert.equal((await registerThrough(server.port, server.invitationCode, phone, PASSWORD)).status, 201);
    const { context, page } = await newPage('zh-CN', EXPECTED_REFUSALS, true);
    await signIn(page, phone);
    await page.fill('#f-2fa-password', PASSWORD);
    await page.click('section[aria-labelledby=two-factor-h] button[type=submit]');
    await page.waitForSelector('img.two-factor-qr');
    assert.deepEqual((await axeViolations(page)).map((v) => v.id), [], 'the setup step passes axe-core');
    await page.locator('section[aria-labelledby=two-factor-h]').screenshot({ path: path.join(SCREENSHOTS, 'account-two-factor.png') });
    const secret = (await page.textContent('code.two-factor-key'))!.replace(/\s/g, '');
    const appCode = (stepsAhead = 0) => new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({ timestamp: Date.now() + stepsAhead * 30_000 });
    await page.fill('#f-2fa-code', appCode());
    await page.click('section[aria-labelledby=two-factor-h] button[type=submit]');
    await page.waitForSelector('ol.recovery-codes li');
    const recovery = await page.locator('ol.recovery-codes li').allTextContents();
    assert.equal(recovery.length, 10);
    await page.click('button:text-is("我已保存恢复码")');
    await page.waitForSelector('#f-2fa-off-code');

    /** Logs out, then signs in with the password as far as the second step. */
    const logOutAndEnterPassword = async () => {
      await Promise.all([page.waitForURL(`${base}/login`), page.click('button:text-is("退出登录")')]);
      await page.fill('#f-phone', phone);
      await page.fill('#f-password', PASSWORD);
      await fillCaptcha(page);
      await page.click('button[type=submit]');
      await page.waitForSelector('form.second-factor #f-code');
    };

    // The next sign-in: the password, then the code — a wrong one says so at its field.
    await logOutAndEnterPassword();
    await page.fill('#f-code', appCode(1) === '000000' ? '111111' : '000000');
    await page.click('form.second-factor button[type=submit]');
    await page.waitForSelector('#f-code[aria-invalid=true]');
    assert.match(await page.textContent('#f-code-error') ?? '', /动态码错误或已使用过，还可再试 4 次/);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'login-two-factor.png') });
    await page.fill('#f-code', appCode(1));
    await Promise.all([page.waitForURL(`${base}/account`), page.click('form.second-factor button[type=submit]')]);

    // A recovery code signs in once; with another, the owner turns it off.
    await logOutAndEnterPassword();
    await page.fill('#f-code', recovery[0]!);
    await Promise.all([page.waitForURL(`${base}/account`), page.click('form.second-factor button[type=submit]')]);
    await page.fill('#f-2fa-off-password', PASSWORD);
    await page.fill('#f-2fa-off-code', recovery[1]!);
    await page.click('section[aria-labelledby=two-factor-h] button[type=submit]');
    await page.waitForSelector('#f-2fa-password');
    assert.equal((await loginThrough(server.port, phone, PASSWORD)).status, 200, 'the password alone again');
    await context.close();
  });

  it('log in with an SMS code: the captcha, the countdown, the code from the outbox', async () => {
    const phone = uniquePhone();
    assert.equal((await registerThrough(server.port, server.invitationCode, phone, PASSWORD)).status, 201);
    const { context, page } = await newPage('zh-CN');
    await page.goto(`${base}/login/sms`);
    await page.fill('#f-phone', phone);
    await fillCaptcha(page);
    await page.click('button.send-code');
    await page.waitForFunction(() => (document.querySelector('.sms-sender [role=status]')?.textContent ?? '').includes('秒') || (document.querySelector('.form-error, .field-error:not(:empty)')?.textContent ?? '') !== '');
    assert.equal(await page.textContent('.form-error'), '', 'no error while sending');
    assert.equal(await page.isDisabled('button.send-code'), true, 'no second code until the cooldown is over');
    const code = await outboxCode(server.dataDir, phone);
    await page.fill('#f-code', code);
    await Promise.all([page.waitForURL(/\/account/), page.click('button[type=submit]')]);
    await context.close();
  });

  it('an admin creates an invitation code, imports a roster and watches it, and signs a teacher out', async () => {
    const adminPhone = uniquePhone();
    const created = await runCli(['admin', 'create', '--phone', adminPhone, '--name', 'Admin', '--password-stdin'], { DATA_DIR: server.dataDir }, PASSWORD);
    assert.equal(created.code, 0, created.stderr);
    const admin = await newPage('zh-CN', WITH_TWO_FACTOR_SETUP);
    await signIn(admin.page, adminPhone);
    // The first administrator is sent to turn on two-factor sign-in, and comes back to the console.
    await admin.page.goto(`${base}/admin#orgs`);
    await Promise.all([admin.page.waitForURL(/\/account\?return_to=%2Fadmin%23orgs/), admin.page.click('a.two-factor-setup')]);
    await turnOnTwoFactor(admin.page);
    await Promise.all([admin.page.waitForURL(`${base}/admin#orgs`), admin.page.click('button:text-is("我已保存恢复码")')]);
    await admin.page.waitForSelector('section.org');
    const before = await admin.page.locator('code.invitation-code').count();
    await admin.page.fill('section.org >> nth=0 >> input[name^=max]', '50');
    await admin.page.click('section.org >> nth=0 >> button[type=submit]');
    await admin.page.waitForFunction((n) => document.querySelectorAll('code.invitation-code').length === n + 1, before);
    assert.equal(await admin.page.inputValue('section.org >> nth=0 >> input[name^=max]'), '', 'a saved form starts afresh');
    const codes = await admin.page.locator('code.invitation-code').allTextContents();
    const newCode = codes.find((c) => c !== server.invitationCode)!;
    assert.match(await admin.page.textContent('main') ?? '', /已用 0 \/ 50/);

    // More teachers than places: the same code, a bigger quota.
    const row = `tr:has(code:text-is("${newCode}"))`;
    await admin.page.click(`${row} >> text=调整名额/有效期`);
    assert.equal(await admin.page.inputValue(`${row} >> form.invitation-limits >> input[type=number] >> nth=0`), '50', 'the quota as it is');
    await admin.page.fill(`${row} >> form.invitation-limits >> input[type=number] >> nth=0`, '80');
    await admin.page.click(`${row} >> form.invitation-limits >> button[type=submit]`);
    await admin.page.waitForFunction(() => /已用 0 \/ 80/.test(document.querySelector('main')?.textContent ?? ''));
    assert.match(await admin.page.textContent('main') ?? '', new RegExp(`邀请码 ${newCode} 已更新`));

    // The new code's registration link as a QR code for the projector: it scans to the link.
    await admin.page.click(`tr:has(code:text-is("${newCode}")) >> text=二维码`);
    await admin.page.waitForFunction(() => (document.querySelector('img.qr') as HTMLImageElement | null)?.complete && (document.querySelector('img.qr') as HTMLImageElement).naturalWidth > 0);
    const pixels = await admin.page.evaluate(() => {
      const image = document.querySelector('img.qr') as HTMLImageElement;
      const canvas = document.createElement('canvas');
      canvas.width = canvas.height = 400;
      const context = canvas.getContext('2d')!;
      context.fillStyle = '#fff';
      context.fillRect(0, 0, 400, 400);
      context.drawImage(image, 0, 0, 400, 400);
      return Array.from(context.getImageData(0, 0, 400, 400).data);
    });
    const scanned = jsQR(Uint8ClampedArray.from(pixels), 400, 400);
    assert.equal(scanned?.data, `${base}/register?code=${newCode}`);
    assert.equal(await admin.page.textContent('.qr-panel .qr-link'), `${base}/register?code=${newCode}`);
    await admin.page.locator('.qr-panel').screenshot({ path: path.join(SCREENSHOTS, 'admin-qr.png') });

    // The organization's settings: a new name, and registration needing an SMS code — then off again.
    const settings = 'section.org >> nth=0 >> form.org-settings';
    await admin.page.fill(`${settings} >> input[name^=org-name]`, '第一实验学校');
    await admin.page.check(`${settings} >> input[type=checkbox]`);
    await admin.page.click(`${settings} >> button[type=submit]`);
    await admin.page.waitForFunction(() => document.querySelector('section.org h3')?.textContent?.startsWith('第一实验学校'));
    assert.equal(await admin.page.isChecked(`${settings} >> input[type=checkbox]`), true);
    assert.match(await admin.page.textContent('main') ?? '', /已保存机构设置/);
    await admin.page.screenshot({ path: path.join(SCREENSHOTS, 'admin-organizations.png'), fullPage: true });
    await admin.page.uncheck(`${settings} >> input[type=checkbox]`);
    // Half-typed in another form of the tab while this one is saved: the redrawing keeps it.
    await admin.page.fill('section.org >> nth=0 >> input[name^=days]', '7');
    const drawn = await admin.page.$('section.org');
    await admin.page.click(`${settings} >> button[type=submit]`);
    await admin.page.waitForFunction((section) => !section?.isConnected, drawn);
    assert.equal(await admin.page.isChecked(`${settings} >> input[type=checkbox]`), false);
    assert.equal(await admin.page.inputValue('section.org >> nth=0 >> input[name^=days]'), '7', 'what was typed elsewhere survives the save');
    await admin.page.fill('section.org >> nth=0 >> input[name^=days]', '');

    // An organization made by mistake: deleted from the console (it has no members).
    await admin.page.fill('#f-org-name', '临时机构');
    await admin.page.click('form:has(#f-org-name) button[type=submit]');
    const mistake = 'section.org:has(h3:has-text("临时机构"))';
    await admin.page.waitForSelector(mistake);
    admin.page.once('dialog', (dialog) => void dialog.accept());
    await admin.page.click(`${mistake} >> text=删除机构`);
    await admin.page.waitForSelector(mistake, { state: 'detached' });
    assert.equal(await admin.page.locator('section.org >> nth=0 >> text=删除机构').count(), 0, 'an organization with members offers no deletion');

    // A teacher registers with the new code, through its link.
    const teacherPhone = uniquePhone();
    const teacher = await newPage('zh-CN');
    await teacher.page.goto(`${base}/register?code=${newCode}`);
    await fillRegistration(teacher.page, '赵老师', teacherPhone);
    await Promise.all([teacher.page.waitForURL(`${base}/account`), teacher.page.click('button[type=submit]')]);

    // The roster import, with its progress bar and its report.
    await admin.page.goto(`${base}/admin#import`);
    await admin.page.waitForSelector('#import-file');
    // A file without a phone column: refused, with the reason, in the console's language.
    await admin.page.setInputFiles('#import-file', { name: '名单.csv', mimeType: 'text/csv', buffer: Buffer.from('姓名,备注\n张三,一班') });
    await admin.page.click('form button[type=submit]');
    await admin.page.waitForFunction(() => document.querySelector('main .form-error')?.textContent?.startsWith('名单文件无法导入：'));
    assert.match(await admin.page.textContent('main .form-error') ?? '', /phone/i, 'the server says which column is missing');
    const roster = ['姓名,手机号', ...Array.from({ length: 300 }, (_, i) => `教师${i},135${String(i).padStart(8, '0')}`), '坏号码,12345'].join('\n');
    await admin.page.setInputFiles('#import-file', { name: '名单.csv', mimeType: 'text/csv', buffer: Buffer.from(roster) });
    await admin.page.click('form button[type=submit]');
    await admin.page.waitForSelector('a.report-link');
    assert.equal(await admin.page.getAttribute('#import-progress', 'value'), '100');
    assert.match(await admin.page.textContent('main') ?? '', /新建 300，已存在 0，无效 1/);
    await admin.page.screenshot({ path: path.join(SCREENSHOTS, 'admin-import.png'), fullPage: true });

    // The member list, exported by a task and downloaded from the console.
    await admin.page.goto(`${base}/admin#orgs`);
    await admin.page.click('section.org >> nth=0 >> text=导出成员名单');
    const link = admin.page.locator('section.org >> nth=0 >> a.export-link');
    await link.waitFor();
    const listed = Number(/（(\d+) 人/.exec(await link.textContent() ?? '')?.[1]);
    assert.ok(listed >= 302, `admin, teacher and 300 imported: ${listed}`);
    const csv = await (await admin.page.request.get(new URL((await link.getAttribute('href'))!, base).href)).text();
    assert.match(csv, /\r\n赵老师,'\+86\d+,user,active,/);
    assert.match(csv, /\r\n教师299,'\+8613500000299,user,active,/);

    // Sign the teacher out from the console (after a mistyped password, which the console shows and can clear).
    assert.equal((await loginThrough(server.port, teacherPhone, 'a mistyped passphrase')).status, 401);
    await admin.page.goto(`${base}/admin#users`);
    await admin.page.fill('#f-user-q', teacherPhone);
    await admin.page.click('form[role=search] button[type=submit]');
    await admin.page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 1);
    const everyOrgHeaders = await admin.page.locator('thead th').allTextContents();
    assert.deepEqual(everyOrgHeaders.slice(0, 3), ['姓名', '手机号', '机构'], 'searching every organization, each user shows theirs');
    assert.equal(await admin.page.textContent('tbody tr td:nth-child(3)'), await admin.page.textContent('#user-org option:nth-child(2)'));
    await admin.page.selectOption('#user-org', { index: 1 }); // the teacher's organization, the first
    await admin.page.click('form[role=search] button[type=submit]');
    await admin.page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 1);
    assert.match(await admin.page.textContent('tbody tr') ?? '', /密码错误 1 次/);
    await admin.page.click('text=解除锁定');
    await admin.page.waitForFunction(() => !document.querySelector('tbody tr')?.textContent?.includes('密码错误'));
    assert.equal(await admin.page.locator('text=解除锁定').count(), 0, 'nothing to unlock any more');
    // A typo in the teacher's name, corrected; the teacher made an administrator and back.
    await admin.page.click('text=改名');
    await admin.page.fill('form.rename input', '赵 老师');
    await admin.page.click('form.rename button[type=submit]');
    await admin.page.waitForFunction(() => document.querySelector('tbody tr td')?.textContent === '赵 老师');
    await admin.page.click('text=设为管理员');
    await admin.page.waitForFunction(() => document.querySelector('tbody tr')?.textContent?.includes('取消管理员'));
    assert.match(await admin.page.textContent('tbody tr') ?? '', /正常 · 管理员/);
    await admin.page.click('text=取消管理员');
    await admin.page.waitForFunction(() => document.querySelector('tbody tr')?.textContent?.includes('设为管理员'));
    await admin.page.click('text=登录设备');
    await admin.page.waitForSelector('button[data-session]');
    await admin.page.screenshot({ path: path.join(SCREENSHOTS, 'admin-users.png'), fullPage: true });
    await admin.page.click('button[data-session]');
    await admin.page.waitForFunction(() => document.querySelectorAll('button[data-session]').length === 0);
    await Promise.all([teacher.page.waitForURL(`${base}/login`), teacher.page.reload()]);

    // The teacher's account deleted from the console, after a confirmation.
    admin.page.once('dialog', (dialog) => void dialog.accept());
    await admin.page.click('tbody tr >> text=删除账户');
    await admin.page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 0);
    assert.equal((await loginThrough(server.port, teacherPhone, PASSWORD)).status, 401);

    await admin.page.goto(`${base}/admin#audit`);
    await admin.page.waitForSelector('tbody tr');
    assert.match(await admin.page.textContent('tbody') ?? '', /admin\.session_revoked/);
    await admin.page.screenshot({ path: path.join(SCREENSHOTS, 'admin-audit.png'), fullPage: true });
    // An event's address leads to that address's rate limits, looked up at once.
    const firstAddress = (await admin.page.textContent('tbody a.address-link'))!;
    await admin.page.click('tbody a.address-link');
    await admin.page.waitForSelector('.address-limits table');
    assert.equal(await admin.page.inputValue('#f-limits-address'), firstAddress);
    assert.match(await admin.page.textContent('.address-limits p') ?? '', new RegExp(`计数对象：${firstAddress.replace(/[.:]/g, '\\$&')}`));

    // A sensitive action in a session whose sign-in was a while ago: the console asks for the password, then goes on.
    const database = new Database(path.join(server.dataDir, 'gatehouse.sqlite'));
    try {
      database.prepare('UPDATE sessions SET password_at = password_at - 600000, second_factor_at = second_factor_at - 600000 WHERE user_id = (SELECT id FROM users WHERE phone LIKE ?)').run(`%${adminPhone}`);
    } finally {
      database.close();
    }
    await admin.page.goto(`${base}/admin#keys`);
    await admin.page.fill('#f-key-name', 'nightly sync');
    await admin.page.click('.admin-body form button[type=submit]');
    await admin.page.waitForSelector('dialog.reauth[open]');
    await admin.page.fill('#f-reauth-password', PASSWORD);
    await admin.page.click('dialog.reauth button[type=submit]');
    await admin.page.waitForSelector('code.new-key');
    assert.equal(await admin.page.locator('dialog.reauth').count(), 0, 'the dialog is gone');
    await admin.context.close();
    await teacher.context.close();
  });

  it('the header says who is signed in, with their account, the console for an administrator and "Log out"; a sign-in page sends a signed-in visitor on to where they were going', async () => {
    const adminPhone = uniquePhone();
    assert.equal((await runCli(['admin', 'create', '--phone', adminPhone, '--name', 'Header Admin', '--password-stdin'], { DATA_DIR: server.dataDir }, PASSWORD)).code, 0);
    const { context, page } = await newPage('en', WITH_TWO_FACTOR_SETUP);
    // Signed out, the console sends to the login page, which comes back to it (the section too).
    await page.goto(`${base}/admin#users`);
    await page.waitForURL(`${base}/login?return_to=%2Fadmin%23users`);
    await page.waitForSelector('header nav a');
    assert.deepEqual(await page.locator('header nav a').allTextContents(), ['Log in', 'Register', 'Log in with an SMS code', 'Forgot password']);
    assert.equal(await page.getAttribute('header nav a:text-is("Register")', 'href'), '/register?return_to=%2Fadmin%23users', 'the destination goes along to the other ways in');
    await page.fill('#f-phone', adminPhone);
    await page.fill('#f-password', PASSWORD);
    await fillCaptcha(page);
    await Promise.all([page.waitForURL(`${base}/admin#users`), page.click('button[type=submit]')]);
    await page.waitForSelector('header .who');
    assert.equal(await page.textContent('header .who'), 'Signed in as Header Admin');
    assert.deepEqual(await page.locator('header nav a').allTextContents(), ['My account', 'Admin console']);
    assert.equal(await page.getAttribute('header nav a[href="/admin"]', 'aria-current'), 'page');
    // Already signed in, a sign-in page goes on at once: to its return_to when that is a path of this site, else to the account page.
    const visits: Array<[string, string]> = [
      ['/login?return_to=%2Fadmin%23keys', '/admin#keys'],
      ['/login/sms?next=/admin', '/admin'],
      ['/register', '/account'],
      ['/login?return_to=//evil.example/', '/account'],
      ['/login?return_to=https://evil.example/', '/account'],
      ['/login?return_to=/%5Cevil.example', '/account'],
    ];
    for (const [asked, landed] of visits) {
      // The page itself goes on: the navigation is only waited for until the sign-in page answers.
      await page.goto(`${base}${asked}`, { waitUntil: 'commit' });
      await page.waitForURL(`${base}${landed}`);
    }
    // "Log out" in the header: the session is over.
    await page.waitForSelector('header button.logout');
    await Promise.all([page.waitForURL(`${base}/login`), page.click('header button.logout')]);
    assert.equal((await page.request.get(`${base}/api/auth/me`)).status(), 401);
    await context.close();
  });

  it("a registration link names its organization and says whether its code still admits anyone; counts follow the page's language", async () => {
    const made = await runCli(['org', 'create', '--name', 'Second School', '--json'], { DATA_DIR: server.dataDir });
    assert.equal(made.code, 0, made.stderr);
    const org = JSON.parse(made.stdout) as { id: number; invitation_code: string };
    const { context, page } = await newPage('en', /status of (401|404)/);
    const link = `${base}/register?code=${org.invitation_code}`;
    await page.goto(link);
    await page.waitForFunction(() => (document.querySelector('p.invitation')?.textContent ?? '') !== '');
    assert.equal(await page.textContent('p.invitation'), 'You are registering with Second School');
    assert.equal(await page.isHidden('.register-sms'), true, 'no SMS code asked for');
    // A code typed by hand that does not exist: said at its field once it is left.
    await page.fill('#f-invitation_code', 'NOSUCH23');
    await page.press('#f-invitation_code', 'Tab');
    await page.waitForSelector('#f-invitation_code[aria-invalid=true]');
    assert.equal(await page.textContent('#f-invitation_code-error'), 'There is no such invitation code: check the registration link.');
    assert.equal(await page.textContent('p.invitation'), '');

    // An organization that checks phone numbers: the page asks for an SMS code too.
    assert.equal((await runCli(['org', 'set', '--id', String(org.id), '--require-sms', 'yes'], { DATA_DIR: server.dataDir })).code, 0);
    await page.goto(link);
    await page.waitForSelector('.register-sms:not([hidden]) #f-sms_code');
    assert.equal(await page.locator('#f-captcha, #f-sms-captcha').count(), 2, 'two captchas, told apart');
    assert.equal((await runCli(['org', 'set', '--id', String(org.id), '--require-sms', 'no'], { DATA_DIR: server.dataDir })).code, 0);

    // One member, then the code withdrawn: the link says so, naming the organization.
    assert.equal((await registerThrough(server.port, org.invitation_code, uniquePhone(), PASSWORD)).status, 201);
    assert.equal((await runCli(['invite', 'revoke', '--code', org.invitation_code], { DATA_DIR: server.dataDir })).code, 0);
    await page.goto(link);
    await page.waitForSelector('#f-invitation_code[aria-invalid=true]');
    assert.equal(await page.textContent('#f-invitation_code-error'), 'This invitation was withdrawn: ask the organizer of “Second School” for a new registration link.');
    await context.close();

    // The console counts its members in each language's plural: "1 user", "N users", "1 名用户".
    const adminPhone = uniquePhone();
    assert.equal((await runCli(['admin', 'create', '--phone', adminPhone, '--name', 'Counter', '--password-stdin'], { DATA_DIR: server.dataDir }, PASSWORD)).code, 0);
    const admin = await newPage('en', WITH_TWO_FACTOR_SETUP);
    await signIn(admin.page, adminPhone);
    // The console needs a second factor (ADMIN_REQUIRE_TWO_FACTOR): turned on, it counts for this session.
    await turnOnTwoFactor(admin.page);
    await admin.page.goto(`${base}/admin#orgs`);
    await admin.page.waitForSelector('.admin-body:not([aria-busy]) section.org');
    const headings = await admin.page.locator('section.org h3').allTextContents();
    assert.ok(headings.includes('Second School · 1 user'), headings.join(' | '));
    assert.match(headings[0]!, / · \d+ users$/);
    await Promise.all([admin.page.waitForEvent('load'), admin.page.click('header button.lang')]);
    await admin.page.waitForSelector('.admin-body:not([aria-busy]) section.org');
    assert.ok((await admin.page.locator('section.org h3').allTextContents()).includes('Second School · 1 名用户'));
    await admin.context.close();
  });

  it('the login form is completed with the keyboard alone: Tab from the top reaches its fields in order, each visibly focused, and Enter signs in', async () => {
    const phone = uniquePhone();
    assert.equal((await registerThrough(server.port, server.invitationCode, phone, PASSWORD)).status, 201);
    const { context, page } = await newPage('en');
    await page.goto(`${base}/login`);
    await page.waitForSelector('header nav a');
    await page.waitForFunction(() => (document.querySelector('.captcha-image') as HTMLImageElement | null)?.src.startsWith('data:image/png'));
    const focused = () =>
      page.evaluate(() => {
        const active = document.activeElement as HTMLElement;
        return { id: active.id || active.textContent?.trim() || active.tagName, outline: getComputedStyle(active).outlineStyle };
      });
    const passed: string[] = [];
    for (let i = 0; i < 15 && passed.at(-1) !== 'f-phone'; i++) {
      await page.keyboard.press('Tab');
      const now = await focused();
      assert.notEqual(now.outline, 'none', `${now.id} shows where the focus is`);
      passed.push(now.id);
    }
    assert.deepEqual(passed, ['Log in', 'Register', 'Log in with an SMS code', 'Forgot password', '中文', 'f-phone'], 'the header, then the form');
    await page.keyboard.type(phone);
    const next = async () => (await page.keyboard.press('Tab'), (await focused()).id);
    assert.equal(await next(), 'f-password');
    await page.keyboard.type(PASSWORD);
    assert.equal(await next(), 'New picture', 'the captcha: a new picture on request');
    assert.equal(await next(), 'f-captcha');
    await page.keyboard.type('TEST');
    await Promise.all([page.waitForURL(`${base}/account`), page.keyboard.press('Enter')]);
    await context.close();
  });

  it("every page passes axe-core with no violation, in both languages, signed out and signed in (the console's sections in one language each)", async () => {
    for (const locale of ['zh-CN', 'en']) {
      const context = await browser.newContext({ locale, bypassCSP: true });
      const page = await context.newPage();
      for (const url of ['/register', `/register?code=${server.invitationCode}`, '/login', '/login/sms', '/reset-password']) {
        await page.goto(`${base}${url}`);
        await page.waitForSelector('form');
        // The header is drawn once the page knows nobody is signed in; a link's organization once it is looked up.
        await page.waitForSelector('header nav a');
        if (url.includes('code=')) await page.waitForFunction(() => (document.querySelector('p.invitation')?.textContent ?? '') !== '');
        const violations = await axeViolations(page);
        assert.deepEqual(violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), [], `${locale} ${url}`);
        if (locale === 'zh-CN' && !url.startsWith('/register')) await page.screenshot({ path: path.join(SCREENSHOTS, `${url.slice(1).replace('/', '-')}.png`) });
      }
      await context.close();
    }
    // The signed-in pages: the account page in both languages, and every section of the console in
    // one of them, in turn (a section's structure — labels, roles, names, colours — is the same in
    // both; the words and the lang attribute are what differ, and the pages above check those).
    const CONSOLE_TABS: Record<string, string[]> = { 'zh-CN': ['orgs', 'users', 'import', 'audit', 'forward-auth'], en: ['keys', 'apps', 'tasks', 'limits', 'providers'] };
    const adminPhone = uniquePhone();
    assert.equal((await runCli(['admin', 'create', '--phone', adminPhone, '--name', 'Axe', '--password-stdin'], { DATA_DIR: server.dataDir }, PASSWORD)).code, 0);
    let totpSecret: string | undefined;
    for (const locale of ['zh-CN', 'en']) {
      const context = await browser.newContext({ locale, bypassCSP: true });
      const page = await context.newPage();
      await signIn(page, adminPhone, totpSecret);
      // The console needs a second factor: turned on once, then asked at sign-in.
      totpSecret ??= await turnOnTwoFactor(page);
      await page.goto(`${base}/account`);
      await page.waitForSelector('.sessions li');
      assert.deepEqual((await axeViolations(page)).map((v) => v.id), [], `${locale} /account`);
      for (const tab of CONSOLE_TABS[locale]!) {
        await page.goto(`${base}/admin#${tab}`);
        // The section is drawn with its data once the console says it is no longer busy.
        await page.waitForSelector(`.admin-body:not([aria-busy]) > [data-section="${tab}"]`);
        if (tab === 'limits') {
          // This browser's own address: a captcha it just fetched is counted; lifting starts the counts again.
          // (A limit's window is fixed, 60 s here: one that ends between the fetch and the look-up shows 0,
          // so a second try.)
          let captchasUsed = 0;
          for (let attempt = 0; attempt < 2 && captchasUsed === 0; attempt++) {
            if (attempt > 0) await page.reload();
            await page.fill('#f-limits-address', '127.0.0.1');
            assert.equal((await page.request.get(`${base}/api/auth/captcha/generate`)).status(), 200);
            await page.click('.admin-body button[type=submit]');
            await page.waitForSelector('.address-limits table');
            captchasUsed = Number((await page.textContent('.address-limits tbody tr:first-child td:nth-child(2)'))!.split('/')[0]);
          }
          assert.ok(captchasUsed >= 1, `captchas counted for 127.0.0.1: ${captchasUsed}`);
          await page.click('button.lift-limits');
          await page.waitForFunction(() => (document.querySelector('.address-limits [role=status]')?.textContent ?? '') !== '');
          assert.match((await page.textContent('.address-limits tbody tr:first-child td:nth-child(2)'))!, /^0 \//);
        }
        if (tab === 'apps') {
          // An app registered in the console: its secret is shown once, and the server keeps its SHA-256.
          await page.fill('#f-client-name', 'Grafana');
          await page.fill('#f-client-redirect-uris', 'https://grafana.school.example/login/generic_oauth\nhttp://localhost:3000/login/generic_oauth');
          await page.check('input[name=client-role][value=admin]');
          await page.click('form.client-create button[type=submit]');
          const secret = (await (await page.waitForSelector('.client-secret code.new-secret')).textContent())!;
          const clientId = (await page.textContent('.client-secret code.client-id'))!;
          const database = new Database(path.join(server.dataDir, 'gatehouse.sqlite'), { readonly: true });
          try {
            const row = database.prepare('SELECT secret_hash FROM oidc_clients WHERE client_id = ?').get(clientId) as { secret_hash: string };
            assert.equal(row.secret_hash, createHash('sha256').update(secret).digest('hex'));
          } finally {
            database.close();
          }
          const row = `.clients tbody tr:has(code:text-is("${clientId}"))`;
          assert.match((await page.textContent(row))!, /Confidential.*grafana\.school\.example.*roles: platform administrators.*active/);
          // A redirect URI the server refuses: the reason, next to the form.
          await page.fill('#f-client-name', 'Intranet');
          await page.fill('#f-client-redirect-uris', 'http://intranet.school.example/cb');
          await page.click('form.client-create button[type=submit]');
          await page.waitForFunction(() => /uses http/.test(document.querySelector('form.client-create .form-error')?.textContent ?? ''));
          // Disabled after a confirmation, then enabled again.
          const rowSays = (word: string) =>
            page.waitForFunction(([id, text]) => Array.from(document.querySelectorAll('.clients tbody tr')).find((tr) => tr.textContent?.includes(id!))?.textContent?.includes(text!), [clientId, word]);
          page.once('dialog', (dialog) => void dialog.accept());
          await page.click(`${row} >> button:text-is("Disable")`);
          await rowSays('disabled');
          await page.click(`${row} >> button:text-is("Enable")`);
          await rowSays('active');
        }
        if (tab === 'forward-auth') {
          // A rule made with the form shows in the table (checked by axe with it).
          await page.fill('#f-fa-host', 'App.School.Test');
          await page.check('#f-fa-role-admin');
          await page.click('.forward-auth-rule button[type=submit]');
          await page.waitForSelector('.admin-body:not([aria-busy]) code.fa-host');
          assert.equal(await page.textContent('code.fa-host'), 'app.school.test');
        }
        if (tab === 'providers') {
          // A provider set up with the form shows as enabled in the table; its secret is shown nowhere.
          await page.selectOption('#f-provider-name', 'wecom');
          await page.fill('#f-provider-app-id', 'ww-corp-e2e');
          await page.fill('#f-provider-secret', 'e2e-wecom-secret');
          await page.fill('#f-provider-extra', 'agent_id=1000002');
          await page.click('form.sign-in-provider button[type=submit]');
          await page.waitForFunction(() => Array.from(document.querySelectorAll('.sign-in-providers tbody tr')).some((tr) => tr.textContent?.includes('ww-corp-e2e') && tr.textContent.includes('Enabled')));
          assert.ok(!(await page.content()).includes('e2e-wecom-secret'), 'the secret is not on the page');
          // An extra setting WeCom does not take: the reason, next to the form.
          // "Change" fills the form with WeCom's settings, never its secret.
          await page.click('.sign-in-providers tbody tr:has-text("ww-corp-e2e") >> button:text-is("Change")');
          assert.deepEqual([await page.inputValue('#f-provider-name'), await page.inputValue('#f-provider-app-id'), await page.inputValue('#f-provider-secret')], ['wecom', 'ww-corp-e2e', '']);
          await page.fill('#f-provider-extra', 'agent_id=1000002\nscopes=openid');
          await page.click('form.sign-in-provider button[type=submit]');
          await page.waitForFunction(() => /wecom takes only agent_id, corp_id/.test(document.querySelector('form.sign-in-provider .form-error')?.textContent ?? ''));
        }
        const violations = await axeViolations(page);
        assert.deepEqual(violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), [], `${locale} /admin#${tab}`);
        if (locale === 'en' && (tab === 'keys' || tab === 'apps' || tab === 'tasks' || tab === 'limits' || tab === 'providers')) await page.screenshot({ path: path.join(SCREENSHOTS, `admin-${tab}.png`), fullPage: true });
      }
      await context.close();
    }
  });
});
