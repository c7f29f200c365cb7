// In-process app for tests that need no second process: memory store, a fresh SQLite file.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/server/runtime.js';
import { createMemoryStore } from '../../src/kv/memory.js';
import type { KeyValueStore } from '../../src/kv/store.js';
import { prepareDatabase } from '../../src/server/bootstrap.js';
import { createTaskRegistry } from '../../src/task-handlers.js';
import { createSqlQueue } from '../../src/tasks/sql-queue.js';
import type { TaskConsumer } from '../../src/tasks/types.js';
import type { SmsPurpose } from '../../src/sms/codes.js';

export const TEST_CAPTCHA = 'TEST';
/** The password register() gives an account unless told otherwise. */
export const TEST_PASSWORD = 'correct horse battery';

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  database: Database;
  kv: KeyValueStore;
  invitationCode: string;
  dataDir: string;
  close(): Promise<void>;
}

export async function createTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-test-'));
  const config = loadConfig({ DATA_DIR: dataDir, GATEHOUSE_TEST_CAPTCHA: TEST_CAPTCHA, LOG_LEVEL: 'silent', SECRET_KEY: TEST_SECRET, ...env }, {});
  const database = await openDatabase(config);
  const prepared = await prepareDatabase(database, TEST_SECRET);
  const kv = createMemoryStore();
  const app = await buildApp({ config, database, kv, secret: TEST_SECRET, logger: false });
  return {
    app,
    config,
    database,
    kv,
    invitationCode: prepared.firstOrganization!.invitationCode,
    dataDir,
    async close() {
      await app.close();
      await database.close();
      await kv.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function newCaptcha(app: FastifyInstance, purpose?: string): Promise<string> {
  const res = await app.inject({ method: 'GET', url: `/api/auth/captcha/generate${purpose ? `?purpose=${purpose}` : ''}` });
  if (res.statusCode !== 200) throw new Error(`captcha generate: ${res.statusCode} ${res.body}`);
  return res.json().captcha_id as string;
}

let phoneCounter = 0;
/** A valid mainland mobile number, different on every call within a test run. */
export function uniquePhone(): string {
  phoneCounter++;
  return `139${String(process.pid % 10_000).padStart(4, '0')}${String(phoneCounter).padStart(4, '0')}`;
}

export function sessionCookie(res: LightMyRequestResponse, name = 'gatehouse_session'): string {
  const cookie = res.cookies.find((c) => c.name === name);
  if (!cookie) throw new Error(`no ${name} cookie in response`);
  return `${name}=${cookie.value}`;
}

export async function register(t: TestApp, fields: Partial<Record<string, unknown>> = {}) {
  const captcha_id = await newCaptcha(t.app, 'register');
  return t.app.inject({
    method: 'POST',
    url: '/api/auth/register',
    payload: { phone: uniquePhone(), password: TEST_PASSWORD, name: '张老师', invitation_code: t.invitationCode, captcha_id, captcha: TEST_CAPTCHA, ...fields },
  });
}

export async function login(t: TestApp, phone: string, password: string) {
  const captcha_id = await newCaptcha(t.app, 'login');
  return t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { phone, password, captcha_id, captcha: TEST_CAPTCHA } });
}

/** The code an authenticator app shows for `secret`, `stepsAhead` periods of 30 s from now. */
export function authenticatorCode(secret: string, stepsAhead = 0): string {
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 }).generate({ timestamp: Date.now() + stepsAhead * 30_000 });
}

/**
 * Registers an account, makes it an administrator (as `gatehouse admin create` would) and returns its
 * session cookie. The administrator turns on two-factor sign-in in that session, through the API as
 * the account page does, so that the session has passed a second factor (ADMIN_REQUIRE_TWO_FACTOR);
 * `{ twoFactor: false }` leaves it off. `totpSecret` makes further codes (authenticatorCode(secret, 1):
 * this period's code is used up). A platform administrator by default; `role: 'org_admin'` makes an
 * organization administrator of the organization `invitationCode` admits to (t's own by default).
 */
export async function adminSession(t: TestApp, options: { twoFactor?: boolean; role?: 'admin' | 'org_admin'; invitationCode?: string } = {}): Promise<{ cookie: string; userId: number; phone: string; totpSecret: string | null }> {
  const phone = uniquePhone();
  const res = await register(t, { phone, ...(options.invitationCode ? { invitation_code: options.invitationCode } : {}) });
  if (res.statusCode !== 201) throw new Error(`register: ${res.statusCode} ${res.body}`);
  const userId = res.json().user.id as number;
  await t.database.db.updateTable('users').set({ role: options.role ?? 'admin' }).where('id', '=', userId).execute();
  const cookie = sessionCookie(res);
  if (options.twoFactor === false) return { cookie, userId, phone, totpSecret: null };
  const setup = await t.app.inject({ method: 'POST', url: '/api/auth/2fa/setup', headers: { cookie }, payload: { current_password: TEST_PASSWORD } });
  if (setup.statusCode !== 200) throw new Error(`2fa setup: ${setup.statusCode} ${setup.body}`);
  const totpSecret = setup.json().secret as string;
  const enabled = await t.app.inject({ method: 'POST', url: '/api/auth/2fa/enable', headers: { cookie }, payload: { code: authenticatorCode(totpSecret) } });
  if (enabled.statusCode !== 200) throw new Error(`2fa enable: ${enabled.statusCode} ${enabled.body}`);
  return { cookie, userId, phone, totpSecret };
}

/** Creates an API key through the admin API and returns the key itself. */
export async function createApiKey(t: TestApp, adminCookie: string, scopes: string[], name = 'test key'): Promise<{ key: string; id: number; prefix: string }> {
  const res = await t.app.inject({ method: 'POST', url: '/api/admin/api-keys', headers: { cookie: adminCookie }, payload: { name, scopes } });
  if (res.statusCode !== 201) throw new Error(`create api key: ${res.statusCode} ${res.body}`);
  const body = res.json();
  return { key: body.key, id: body.api_key.id, prefix: body.api_key.prefix };
}

/**
 * Requests an SMS code through the API and reads it where the console provider delivers it (the
 * outbox table), as a person reads their phone. Needs a task consumer running on t's database.
 */
/** `invitationCode` for purpose register, the signed-in account's `cookie` for change_phone. */
export async function smsCode(t: TestApp, phone: string, purpose: SmsPurpose, options: { invitationCode?: string; cookie?: string } = {}): Promise<string> {
  const before = await t.database.db.selectFrom('sms_outbox').select((eb) => eb.fn.max('id').as('last')).executeTakeFirst();
  const captcha_id = await newCaptcha(t.app, 'sms');
  const sent = await t.app.inject({
    method: 'POST',
    url: '/api/auth/sms/send',
    headers: options.cookie ? { cookie: options.cookie } : {},
    payload: { phone, purpose, captcha_id, captcha: TEST_CAPTCHA, ...(options.invitationCode ? { invitation_code: options.invitationCode } : {}) },
  });
  if (sent.statusCode !== 202) throw new Error(`sms send: ${sent.statusCode} ${sent.body}`);
  for (let i = 0; i < 500; i++) {
    const row = await t.database.db
      .selectFrom('sms_outbox')
      .select('message')
      .where('id', '>', Number(before?.last ?? 0))
      .where('purpose', '=', purpose)
      // This phone's: another send's delivery (the task consumer runs on its own) may land meanwhile.
      .where('phone', 'like', `%${phone.replace(/\D/g, '')}`)
      .orderBy('id', 'desc')
      .executeTakeFirst();
    if (row) return /(\d{6})/.exec(row.message)![1]!;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no SMS for ${phone} arrived in the outbox`);
}

/** The last SMS delivery task to `e164`, once it has finished: its state and what it sent (result.sent: code, taken_notice or nothing). */
export async function settledDelivery(t: Pick<TestApp, 'database'>, e164: string): Promise<{ state: string; result: { sent?: string } | null }> {
  for (let i = 0; i < 500; i++) {
    const task = await t.database.db
      .selectFrom('tasks')
      .select(['state', 'result'])
      .where('type', '=', 'sms.deliver')
      .where('payload', 'like', `%"phone":"${e164}"%`)
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (task && (task.state === 'succeeded' || task.state === 'dead')) return { state: task.state, result: task.result === null ? null : JSON.parse(task.result) };
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no SMS delivery to ${e164} finished`);
}

/** Another app on the same database and store (another worker, with caches of its own, cold at first). */
export async function anotherWorker(t: TestApp): Promise<TestApp> {
  const app = await buildApp({ config: t.config, database: t.database, kv: t.kv, secret: TEST_SECRET, logger: false });
  return { ...t, app };
}

/** The secret createTestApp's app uses (task handlers need the same one to open sealed SMS codes). */
export const TEST_SECRET = 'x'.repeat(40);

/** A task consumer on t's database with the service's own handlers, as `gatehouse worker` would run. */
export function startTaskConsumer(t: Pick<TestApp, 'config' | 'database' | 'kv'>, options: { concurrency?: number; log?: { info: (...args: any[]) => void }; secret?: string } = {}): TaskConsumer {
  const registry = createTaskRegistry({ config: t.config, database: t.database, kv: t.kv, secret: options.secret ?? TEST_SECRET, log: options.log ?? { info: () => undefined } });
  return createSqlQueue(t.database, { leaseMs: 5_000, pollMs: 10 }).consume(registry.processor(), { concurrency: options.concurrency ?? 2, backoffMs: () => 10 });
}

/**
 * For a describe block: a test app with a task consumer on it (SMS delivery, imports, …), made before
 * the block's tests and closed after them; `ready` hears the app once it is made.
 */
export function testAppWithTasks(env: Record<string, string>, ready: (t: TestApp) => void | Promise<void>): void {
  let t: TestApp | undefined;
  let consumer: TaskConsumer | undefined;
  before(async () => {
    t = await createTestApp(env);
    consumer = startTaskConsumer(t);
    await ready(t);
  });
  after(async () => {
    await consumer?.stop(1_000);
    await t?.close();
  });
}

/** Who makes a request in the admin-API tests: a signed-in account's cookie and id. */
export type SignedInAs = { cookie: string; userId: number };

/** A request as `who` (anonymous when undefined), with an optional JSON (or raw) payload and headers. */
export function injectAs(t: Pick<TestApp, 'app'>, who: SignedInAs | undefined, method: string, url: string, payload?: unknown, headers: Record<string, string> = {}) {
  return t.app.inject({ method: method as 'GET', url, headers: { ...(who ? { cookie: who.cookie } : {}), ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) });
}

/** Asserts a refusal's status and stable error code (`what` names the case in the failure); returns the error body. */
export function assertRefused(res: LightMyRequestResponse, status: number, code: string, what: string): Record<string, unknown> {
  assert.equal(res.statusCode, status, `${what}: ${res.body}`);
  assert.equal(res.json().error?.code, code, what);
  return res.json().error;
}
