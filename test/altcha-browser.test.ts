/// <reference lib="dom" />
// The proof-of-work challenge on the real pages in Chromium, against `gatehouse serve --workers 2`, on the
// embedded default (SQLite) and on PostgreSQL + Redis: registering and logging in with the browser's own
// solution, in both languages, in CAPTCHA_MODE=pow and (switching from the picture) in either; and one
// solution submitted concurrently to both workers passes once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { solveChallenge, type Challenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import { launchBrowser } from './helpers/browser.js';
import { POW_FREE_PER_PHONE } from '../src/captcha/pow.js';
import { registerThrough, request, startServer, uniquePhone, type ServerProcess } from './helpers/cluster.js';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js';
import { TEST_REDIS_URL, uniquePrefix } from './helpers/redis.js';
import { unmet } from './helpers/requirements.js';

const PASSWORD = 'a long workshop passphrase';
/** The form's own captcha (registration has another, for its SMS step). */
const STATUS = '.field:has(#f-captcha) .pow-status';
const SWITCH = '.field:has(#f-captcha) .captcha-switch';

interface Backend {
  name: string;
  skip: string | false;
  env(): Promise<{ env: Record<string, string>; drop(): Promise<void> }>;
}

const BACKENDS: Backend[] = [
  { name: 'embedded SQLite', skip: false, env: async () => ({ env: {}, drop: async () => undefined }) },
  {
    name: 'PostgreSQL + Redis',
    skip: await unmet('postgres', 'redis'),
    env: async () => {
      const database: TestDatabase = await createTestDatabase('altcha');
      return { env: { DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: uniquePrefix('altcha') }, drop: () => database.drop() };
    },
  },
];

// Each mode on one of the backends (the suite's time is shared by every test): pow, where the pages show
// only the proof of work, on the embedded default; either, where the visitor switches to it, on
// PostgreSQL + Redis. The challenge's store path is the same code on both (kv.contract.test.ts).
const RUNS = [
  { backend: BACKENDS[0]!, mode: 'pow' },
  { backend: BACKENDS[1]!, mode: 'either' },
] as const;

for (const { backend, mode } of RUNS) {
  describe(`proof of work on the pages, CAPTCHA_MODE=${mode}, ${backend.name}`, { skip: (await unmet('chromium')) || backend.skip }, () => {
    let server: ServerProcess;
    let browser: Browser;
    let closeBrowser: () => Promise<void>;
    let drop: () => Promise<void> = async () => undefined;
    let base: string;
    const pageErrors: string[] = [];

    before(async () => {
      const prepared = await backend.env();
      drop = prepared.drop;
      server = await startServer({ workers: 2, env: { ...prepared.env, CAPTCHA_MODE: mode } });
      base = `http://127.0.0.1:${server.port}`;
      ({ browser, close: closeBrowser } = await launchBrowser());
    });
    after(async () => {
      await closeBrowser?.();
      await server?.stop();
      await drop();
      assert.deepEqual(pageErrors, [], 'no script errors (the CSP lets the solver worker run)');
    });

    async function newPage(locale: string): Promise<Page> {
      const context = await browser.newContext({ locale });
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error' && !/status of 401/.test(message.text())) pageErrors.push(`${page.url()}: ${message.text()}`);
      });
      return page;
    }

    /** In either mode the picture comes first: the visitor switches; then the browser solves by itself. */
    async function useProofOfWork(page: Page, switchText: RegExp) {
      if (mode === 'either') {
        await page.waitForSelector(`${SWITCH}:not([hidden])`);
        assert.match((await page.textContent(SWITCH)) ?? '', switchText);
        await page.click(SWITCH);
      }
      await page.waitForSelector(`${STATUS}:not([hidden])`);
      assert.equal(await page.isHidden('#f-captcha'), true, 'nothing to read or type');
      await page.waitForSelector(`${STATUS}[data-state=done]`, { timeout: 30_000 });
    }

    for (const [locale, name, switchText, doneText] of [
      ['zh-CN', '张老师', /不用看图/, /自动验证已完成/],
      ['en', 'Teacher Wang', /No picture/, /check in your browser is done/],
    ] as const) {
      it(`${locale}: registers, logs out and logs in again with the browser's proof of work`, async () => {
        const page = await newPage(locale);
        const phone = uniquePhone();
        const posted: Array<Record<string, unknown>> = [];
        page.on('request', (req) => {
          if (req.method() === 'POST' && /\/api\/auth\/(register|login)$/.test(req.url())) posted.push(req.postDataJSON());
        });
        await page.goto(`${base}/register?code=${server.invitationCode}`);
        await page.fill('#f-name', name);
        await page.fill('#f-phone', phone);
        await page.fill('#f-password', PASSWORD);
        await useProofOfWork(page, switchText);
        assert.match((await page.textContent(STATUS)) ?? '', doneText);
        await Promise.all([page.waitForURL(`${base}/account`), page.click('button[type=submit]')]);

        await page.context().clearCookies();
        await page.goto(`${base}/login`);
        await page.fill('#f-phone', phone);
        await page.fill('#f-password', PASSWORD);
        // In either mode the choice is remembered: the login page starts with the proof of work.
        await page.waitForSelector(`${STATUS}[data-state=done]`, { timeout: 30_000 });
        await Promise.all([page.waitForURL(`${base}/account`), page.click('button[type=submit]')]);
        assert.equal(posted.length, 2);
        for (const body of posted) {
          assert.equal(body.captcha_id, undefined);
          assert.match(String(body.altcha), /^[A-Za-z0-9+/]+=*$/, 'the payload the ALTCHA widget would submit');
          const { challenge, solution } = JSON.parse(Buffer.from(String(body.altcha), 'base64').toString());
          assert.equal(challenge.parameters.algorithm, 'PBKDF2/SHA-256');
          assert.equal(typeof solution.counter, 'number');
        }
        await page.context().close();
      });
    }

    it('one solution sent concurrently to both workers passes once', async () => {
      const phone = uniquePhone();
      assert.equal((await registerThrough(server.port, server.invitationCode, phone, PASSWORD)).status, mode === 'either' ? 201 : 400);
      if (mode !== 'either') return; // registerThrough uses the image captcha, which pow mode refuses.
      const challenge = (await request(server.port, 'GET', '/api/auth/altcha/challenge?purpose=login')).body as Challenge;
      const solution = await solveChallenge({ challenge, deriveKey });
      const altcha = Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
      // As many as one phone number submits at the easiest level (each verified submission counts).
      const results = await Promise.all(Array.from({ length: POW_FREE_PER_PHONE }, () => request(server.port, 'POST', '/api/auth/login', { body: { phone, password: PASSWORD, altcha } })));
      assert.equal(results.filter((r) => r.status === 200).length, 1, JSON.stringify(results.map((r) => r.status)));
      assert.equal(results.filter((r) => r.body?.error?.code === 'CAPTCHA_EXPIRED').length, POW_FREE_PER_PHONE - 1);
    });
  });
}
