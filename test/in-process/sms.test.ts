// SMS codes: the code store's rules, the providers against local fake servers (signatures checked,
// errors and timeouts retried, then dead-lettered), Tencent's TC3 signer against its documentation's
// worked example, and the flows end to end with the console provider and a real queue consumer.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createMemoryStore } from '../../src/kv/memory.js';
import { SmsCodes } from '../../src/sms/codes.js';
import { smsDeliveryHandler, type SmsDeliveryPayload } from '../../src/sms/delivery.js';
import { signTc3, tencentProvider } from '../../src/sms/providers/tencent.js';
import type { SmsProvider } from '../../src/sms/providers/types.js';
import { signWebhook, webhookProvider } from '../../src/sms/providers/webhook.js';
import { seal, unseal } from '../../src/security/seal.js';
import { TaskRegistry } from '../../src/tasks/registry.js';
import { createSqlQueue } from '../../src/tasks/sql-queue.js';
import type { TaskConsumer, TaskQueue, TaskRecord } from '../../src/tasks/types.js';
import { adminSession, anotherWorker, createTestApp, login, newCaptcha, register, sessionCookie, smsCode, startTaskConsumer, TEST_SECRET, uniquePhone, type TestApp } from '../helpers/app.js';
import { metricValue } from '../helpers/cluster.js';

const SECRET = 's'.repeat(40);

describe('Tencent TC3-HMAC-SHA256 signer', () => {
  it('reproduces the worked example of Tencent Cloud\'s "Signature v3" documentation', () => {
    // The documentation's example: CVM DescribeInstances, timestamp 1551113065, its example keys.
    const signed = signTc3({
      secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE',
      secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE',
      service: 'cvm',
      host: 'cvm.tencentcloudapi.com',
      timestamp: 1551113065,
      payload: '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}',
    });
    assert.equal(signed.hashedPayload, '35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064');
    assert.equal(signed.stringToSign, 'TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031');
    assert.equal(signed.signature, '72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168');
    assert.equal(
      signed.authorization,
      'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168',
    );
  });
});

describe('SMS code store', () => {
  const make = (maxTries = 5) => new SmsCodes(createMemoryStore(), SECRET, { ttlSeconds: 300, maxTries });

  it('a code works once, for its phone and purpose only, and is stored only as an HMAC', async () => {
    const kv = createMemoryStore();
    const codes = new SmsCodes(kv, SECRET, { ttlSeconds: 300, maxTries: 5 });
    const code = await codes.issue('+8613800138000', 'login');
    assert.match(code, /^\d{6}$/);
    assert.equal(await kv.get('sms:code:login:+8613800138000') === code, false);
    assert.equal(await codes.consume('+8613800138000', 'reset_password', code), false, 'another purpose');
    assert.equal(await codes.consume('+8613800138001', 'login', code), false, 'another phone');
    assert.equal(await codes.consume('+8613800138000', 'login', code), true);
    assert.equal(await codes.consume('+8613800138000', 'login', code), false, 'used up');
  });

  it('wrong guesses destroy the code after the allowed tries', async () => {
    const codes = make(3);
    const code = await codes.issue('+8613800138000', 'login');
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 3; i++) assert.equal(await codes.consume('+8613800138000', 'login', wrong), false);
    assert.equal(await codes.consume('+8613800138000', 'login', code), false, 'the fourth try finds it destroyed');
  });

  it('of concurrent right answers exactly one wins', async () => {
    const codes = make(50);
    const code = await codes.issue('+8613800138000', 'login');
    const results = await Promise.all(Array.from({ length: 20 }, () => codes.consume('+8613800138000', 'login', code)));
    assert.equal(results.filter(Boolean).length, 1);
  });

  it('seals codes for the queue so that only this secret opens them', () => {
    const sealed = seal(SECRET, 'sms code', '123456');
    assert.ok(!sealed.includes('123456'));
    assert.equal(unseal(SECRET, 'sms code', sealed), '123456');
    assert.throws(() => unseal('t'.repeat(40), 'sms code', sealed));
    assert.throws(() => unseal(SECRET, 'totp secret', sealed), 'a value sealed for one purpose does not open as another');
    // One bit of the ciphertext flipped (editing the base64 text could change only its padding bits).
    const raw = Buffer.from(sealed, 'base64url');
    raw[raw.length - 1]! ^= 1;
    assert.throws(() => unseal(SECRET, 'sms code', raw.toString('base64url')));
  });
});

/** A local HTTP server that answers with a scripted sequence of behaviours and records requests. */
class FakeProvider {
  requests: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
  script: Array<(res: ServerResponse) => void> = [];
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        this.requests.push({ headers: req.headers, body });
        const step = this.script.shift() ?? ((r: ServerResponse) => r.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
        step(res);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** Runs sms.deliver tasks through a real (SQLite) queue with the given provider. */
async function deliveryRig(t: TestApp, provider: SmsProvider) {
  const queue = createSqlQueue(t.database, { leaseMs: 5_000, pollMs: 10 });
  const handler = smsDeliveryHandler({ secret: SECRET, provider: () => provider, kv: t.kv, config: t.config.sms, contentFor: async () => 'code' });
  const registry = new TaskRegistry([handler]);
  const consumer = queue.consume(registry.processor(), { concurrency: 2, backoffMs: () => 20 });
  const deliver = async (code: string, phone = '+8613800138000') => {
    const payload: SmsDeliveryPayload = { phone, purpose: 'login', sealed_code: seal(SECRET, 'sms code', code), expires_at: Date.now() + 300_000 };
    return (await queue.submit({ type: 'sms.deliver', payload, priority: 8, maxAttempts: 3 })).task.id;
  };
  return { queue, consumer, deliver };
}

async function settled(queue: TaskQueue, id: string): Promise<TaskRecord> {
  for (let i = 0; i < 500; i++) {
    const task = await queue.get(id);
    if (task && (task.state === 'succeeded' || task.state === 'dead')) return task;
    await sleep(10);
  }
  throw new Error(`task ${id} did not settle`);
}

describe('SMS providers against local fake servers', () => {
  let t: TestApp;
  let fake: FakeProvider;
  let consumer: TaskConsumer | undefined;
  before(async () => {
    t = await createTestApp();
    fake = new FakeProvider();
    await fake.start();
  });
  after(async () => {
    await consumer?.stop(1_000);
    await fake.stop();
    await t.close();
  });

  it('webhook: signed requests; 5xx and timeouts are retried with the same code and delivery id; 4xx is final', async () => {
    const hookSecret = 'h'.repeat(32);
    const rig = await deliveryRig(t, webhookProvider({ url: fake.url, secret: hookSecret, timeoutMs: 300 }));
    consumer = rig.consumer;
    fake.script = [(r) => r.writeHead(503).end('busy'), () => undefined /* no answer: a timeout */, (r) => r.writeHead(200).end('ok')];
    const id = await rig.deliver('424242');
    const done = await settled(rig.queue, id);
    assert.equal(done.state, 'succeeded', JSON.stringify(done));
    assert.equal(done.attempts, 3);
    assert.equal(fake.requests.length, 3);
    for (const request of fake.requests) {
      const body = JSON.parse(request.body);
      assert.equal(body.code, '424242');
      assert.equal(body.to, '+8613800138000');
      assert.equal(request.headers['idempotency-key'], id, 'every retry carries the same delivery id');
      const expected = signWebhook(hookSecret, Number(request.headers['x-gatehouse-timestamp']), request.body);
      assert.equal(request.headers['x-gatehouse-signature'], expected);
      const recomputed = `v1=${createHmac('sha256', hookSecret).update(`${request.headers['x-gatehouse-timestamp']}.${request.body}`).digest('hex')}`;
      assert.equal(expected, recomputed);
    }
    fake.requests = [];
    fake.script = [(r) => r.writeHead(400).end('no such number')];
    const refused = await settled(rig.queue, await rig.deliver('111111'));
    assert.equal(refused.state, 'dead');
    assert.equal(refused.attempts, 1);
    assert.match(refused.last_error ?? '', /400/);
    fake.requests = [];
    fake.script = [(r) => r.writeHead(500).end(), (r) => r.writeHead(500).end(), (r) => r.writeHead(500).end()];
    const exhausted = await settled(rig.queue, await rig.deliver('222222'));
    assert.equal(exhausted.state, 'dead');
    assert.equal(exhausted.attempts, 3);
    assert.equal(fake.requests.length, 3);
    await consumer.stop(1_000);
    consumer = undefined;
  });

  it('Tencent: a correctly signed SendSms; rate-limit errors retried, bad-number errors final', async () => {
    const options = { secretId: 'AKIDtest', secretKey: 'k'.repeat(32), sdkAppId: '1400000000', signName: 'Gatehouse', templateId: '123456', region: 'ap-guangzhou', endpoint: fake.url, timeoutMs: 1_000 };
    const rig = await deliveryRig(t, tencentProvider(options));
    consumer = rig.consumer;
    fake.requests = [];
    const ok = (r: ServerResponse) => r.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ Response: { SendStatusSet: [{ Code: 'Ok', Message: 'send success', SerialNo: 'sn-1' }], RequestId: 'r1' } }));
    const limited = (r: ServerResponse) => r.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ Response: { Error: { Code: 'LimitExceeded.PhoneNumberThirtySecondLimit', Message: 'slow down' }, RequestId: 'r0' } }));
    fake.script = [limited, ok];
    const done = await settled(rig.queue, await rig.deliver('654321'));
    assert.equal(done.state, 'succeeded', JSON.stringify(done));
    assert.deepEqual(done.result, { sent: 'code', provider: 'tencent', message_id: 'sn-1' });
    const request = fake.requests[1]!;
    assert.equal(request.headers['x-tc-action'], 'SendSms');
    assert.equal(request.headers['x-tc-version'], '2021-01-11');
    const body = JSON.parse(request.body);
    assert.deepEqual(body.PhoneNumberSet, ['+8613800138000']);
    assert.equal(body.TemplateParamSet[0], '654321');
    // The fake server checks the signature as Tencent would: recompute it from the request.
    const host = new URL(fake.url).host;
    const expected = signTc3({ secretId: 'AKIDtest', secretKey: options.secretKey, service: 'sms', host, timestamp: Number(request.headers['x-tc-timestamp']), payload: request.body });
    assert.equal(request.headers.authorization, expected.authorization);
    fake.script = [(r) => r.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ Response: { SendStatusSet: [{ Code: 'InvalidParameterValue.IncorrectPhoneNumber', Message: 'bad number' }] } }))];
    const bad = await settled(rig.queue, await rig.deliver('777777'));
    assert.equal(bad.state, 'dead');
    assert.equal(bad.attempts, 1);
    await consumer.stop(1_000);
    consumer = undefined;
  });

  it('a code that expired before delivery is not sent', async () => {
    let sent = 0;
    const rig = await deliveryRig(t, { name: 'counting', notices: true, send: async () => ((sent += 1), { providerMessageId: null }) });
    consumer = rig.consumer;
    const payload: SmsDeliveryPayload = { phone: '+8613800138000', purpose: 'login', sealed_code: seal(SECRET, 'sms code', '123123'), expires_at: Date.now() - 1 };
    const { task } = await rig.queue.submit({ type: 'sms.deliver', payload, priority: 8, maxAttempts: 3 });
    const dead = await settled(rig.queue, task.id);
    assert.equal(dead.state, 'dead');
    assert.match(dead.last_error ?? '', /expired/);
    assert.equal(sent, 0);
    await consumer.stop(1_000);
    consumer = undefined;
  });
});

describe('SMS flows end to end (console provider, real queue consumer)', () => {
  let t: TestApp;
  let consumer: TaskConsumer;
  let adminCookie: string;

  before(async () => {
    t = await createTestApp({ SMS_RESEND_SECONDS: '60' });
    adminCookie = (await adminSession(t)).cookie;
    consumer = startTaskConsumer(t);
  });
  after(async () => {
    await consumer.stop(1_000);
    await t.close();
  });

  async function sendCode(phone: string, purpose: string, extra: Record<string, string> = purpose === 'register' ? { invitation_code: t.invitationCode } : {}) {
    const captcha_id = await newCaptcha(t.app, 'sms');
    return t.app.inject({ method: 'POST', url: '/api/auth/sms/send', payload: { phone, purpose, captcha_id, captcha: 'TEST', ...extra } });
  }

  /** The code the console provider "sent" to phone, read from the admin outbox as a person would. */
  async function codeFor(phone: string, purpose: string): Promise<string | null> {
    for (let i = 0; i < 200; i++) {
      const res = await t.app.inject({ method: 'GET', url: `/api/admin/sms/outbox?phone=${encodeURIComponent(phone)}`, headers: { cookie: adminCookie } });
      const message = (res.json().messages as Array<{ purpose: string; message: string }>).find((m) => m.purpose === purpose);
      if (message) return /(\d{6})/.exec(message.message)![1]!;
      await sleep(10);
    }
    return null;
  }

  it('log in with an SMS code; known and unknown phones get the same answer', async () => {
    const phone = uniquePhone();
    const registered = await register(t, { phone });
    assert.equal(registered.statusCode, 201);
    const known = await sendCode(phone, 'login');
    const unknownPhone = uniquePhone();
    const unknown = await sendCode(unknownPhone, 'login');
    assert.equal(known.statusCode, 202);
    assert.equal(unknown.statusCode, 202);
    assert.deepEqual(known.json(), unknown.json());
    const code = await codeFor(phone, 'login');
    assert.ok(code, 'the code was delivered to the outbox');
    assert.equal(await codeFor(unknownPhone, 'login'), null, 'nothing is sent to a phone without an account');
    const wrong = await t.app.inject({ method: 'POST', url: '/api/auth/login/sms', payload: { phone, code: code === '000000' ? '111111' : '000000' } });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json().error.code, 'INVALID_SMS_CODE');
    const noAccount = await t.app.inject({ method: 'POST', url: '/api/auth/login/sms', payload: { phone: unknownPhone, code: '123456' } });
    assert.equal(noAccount.statusCode, 401);
    assert.equal(noAccount.json().error.code, 'INVALID_SMS_CODE');
    const ok = await t.app.inject({ method: 'POST', url: '/api/auth/login/sms', payload: { phone, code } });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.json().user.phone.endsWith(phone.slice(-8)), true);
    sessionCookie(ok);
    const reuse = await t.app.inject({ method: 'POST', url: '/api/auth/login/sms', payload: { phone, code } });
    assert.equal(reuse.statusCode, 401, 'a code works once');
  });

  it('resending within the cooldown is refused with Retry-After, the same for any phone', async () => {
    for (const phone of [uniquePhone(), uniquePhone()]) {
      assert.equal((await sendCode(phone, 'login')).statusCode, 202);
      const again = await sendCode(phone, 'login');
      assert.equal(again.statusCode, 429);
      assert.ok(Number(again.headers['retry-after']) > 50);
      assert.equal((await sendCode(phone, 'reset_password')).statusCode, 202, 'another purpose has its own cooldown');
    }
  });

  it('reset the password with a code: every session ends, the new password works', async () => {
    const phone = uniquePhone();
    const registered = await register(t, { phone, password: 'the old passphrase' });
    const oldCookie = sessionCookie(registered);
    assert.equal((await sendCode(phone, 'reset_password')).statusCode, 202);
    const code = await codeFor(phone, 'reset_password');
    const weak = await t.app.inject({ method: 'POST', url: '/api/auth/password/reset', payload: { phone, code, new_password: 'short' } });
    assert.equal(weak.statusCode, 400);
    assert.equal(weak.json().error.code, 'WEAK_PASSWORD');
    const reset = await t.app.inject({ method: 'POST', url: '/api/auth/password/reset', payload: { phone, code, new_password: 'a brand new passphrase' } });
    assert.equal(reset.statusCode, 204, reset.body);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: oldCookie } })).statusCode, 401, 'old sessions are revoked');
    const captcha_id = await newCaptcha(t.app, 'login');
    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { phone, password: 'a brand new passphrase', captcha_id, captcha: 'TEST' } });
    assert.equal(login.statusCode, 200);
    const audit = await t.app.inject({ method: 'GET', url: '/api/admin/audit?event=password.reset', headers: { cookie: adminCookie } });
    assert.ok(audit.json().events.length >= 1);
  });

  it('an organization can require an SMS code to register', async () => {
    const orgId = (await t.database.db.selectFrom('organizations').select('id').executeTakeFirstOrThrow()).id;
    await t.database.db.updateTable('organizations').set({ register_requires_sms: 1 }).where('id', '=', orgId).execute();
    try {
      const fresh = await anotherWorker(t);
      const phone = uniquePhone();
      const without = await register(fresh, { phone });
      assert.equal(without.statusCode, 400);
      assert.equal(without.json().error.code, 'SMS_CODE_REQUIRED');
      const wrong = await register(fresh, { phone, sms_code: '000000' });
      assert.equal(wrong.statusCode, 401);
      assert.equal((await sendCode(phone, 'register')).statusCode, 202);
      const code = await codeFor(phone, 'register');
      const ok = await register(fresh, { phone, sms_code: code });
      assert.equal(ok.statusCode, 201, ok.body);
      await fresh.app.close();
    } finally {
      await t.database.db.updateTable('organizations').set({ register_requires_sms: 0 }).where('id', '=', orgId).execute();
    }
  });

  it("an admin's change to the SMS setting holds at once on a worker whose invitation cache is warm", async () => {
    const orgId = (await t.database.db.selectFrom('organizations').select('id').executeTakeFirstOrThrow()).id;
    const other = await anotherWorker(t);
    const setting = (register_requires_sms: boolean) =>
      t.app.inject({ method: 'PATCH', url: `/api/admin/organizations/${orgId}`, headers: { cookie: adminCookie }, payload: { register_requires_sms } });
    const uses = async () => (await t.database.db.selectFrom('invitation_codes').select('uses').where('code', '=', t.invitationCode).executeTakeFirstOrThrow()).uses;
    try {
      // The other worker caches the code as "no SMS code needed".
      assert.equal((await register(other)).statusCode, 201);
      assert.equal((await setting(true)).json().organization.register_requires_sms, true);
      const phone = uniquePhone();
      const before = await uses();
      const without = await register(other, { phone });
      assert.equal(without.statusCode, 400, without.body);
      assert.equal(without.json().error.code, 'SMS_CODE_REQUIRED');
      assert.equal(await uses(), before, 'the refused registration used nothing of the code');
      assert.equal(await t.database.db.selectFrom('users').select('id').where('phone', '=', `+86${phone}`).executeTakeFirst(), undefined);
      assert.equal((await sendCode(phone, 'register')).statusCode, 202);
      assert.equal((await register(other, { phone, sms_code: await codeFor(phone, 'register') })).statusCode, 201);

      // And back: the other worker now caches "SMS code needed", and must not refuse for it.
      assert.equal((await setting(false)).json().organization.register_requires_sms, false);
      const again = await register(other);
      assert.equal(again.statusCode, 201, again.body);
    } finally {
      await other.app.close();
      await t.database.db.updateTable('organizations').set({ register_requires_sms: 0 }).where('id', '=', orgId).execute();
    }
  });
});

describe('SMS sending limits', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ RATE_LIMIT_SMS_PER_IP: '5/3600' });
  });
  after(() => t.close());

  const send = async (phone: string, purpose: string) => {
    const captcha_id = await newCaptcha(t.app, 'sms');
    return t.app.inject({ method: 'POST', url: '/api/auth/sms/send', payload: { phone, purpose, captcha_id, captcha: 'TEST' } });
  };

  it('caps send requests per address', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await send(uniquePhone(), 'login')).statusCode, 202, `request ${i + 1} from one address this hour`);
    const perAddress = await send(uniquePhone(), 'login');
    assert.equal(perAddress.statusCode, 429, 'the sixth');
    assert.deepEqual([perAddress.json().error.limit, perAddress.json().error.scope], ['sms_ip', 'address']);
  });

  it('refuses a bad purpose and a captcha of another purpose with clear 4xx codes', async () => {
    const fresh = await createTestApp();
    after(() => fresh.close());
    const captcha_id = await newCaptcha(fresh.app, 'sms');
    const purpose = await fresh.app.inject({ method: 'POST', url: '/api/auth/sms/send', payload: { phone: uniquePhone(), purpose: 'everything', captcha_id, captcha: 'TEST' } });
    assert.equal(purpose.statusCode, 400);
    assert.equal(purpose.json().error.code, 'VALIDATION_FAILED');
    const wrongCaptchaPurpose = await newCaptcha(fresh.app, 'login');
    const captcha = await fresh.app.inject({ method: 'POST', url: '/api/auth/sms/send', payload: { phone: uniquePhone(), purpose: 'login', captcha_id: wrongCaptchaPurpose, captcha: 'TEST' } });
    assert.equal(captcha.statusCode, 400);
    assert.equal(captcha.json().error.code, 'CAPTCHA_INVALID');
  });
});

describe('password reset under overload', () => {
  let t: TestApp;
  let consumer: TaskConsumer;
  before(async () => {
    // One place in the hashing queue: while a registration hashes, everything else is refused.
    t = await createTestApp({ HASH_QUEUE_MAX: '1' });
    consumer = startTaskConsumer(t);
  });
  after(async () => {
    await consumer.stop(1_000);
    await t.close();
  });

  const queueDepth = async () => metricValue((await t.app.inject({ method: 'GET', url: '/metrics' })).body, 'gatehouse_hash_queue_depth');
  const reset = (phone: string, code: string) => t.app.inject({ method: 'POST', url: '/api/auth/password/reset', payload: { phone, code, new_password: 'a brand new passphrase' } });

  it('a reset refused with 503 OVERLOADED leaves its SMS code usable', async () => {
    const phone = uniquePhone();
    assert.equal((await register(t, { phone })).statusCode, 201);
    const code = await smsCode(t, phone, 'reset_password');

    const holder = register(t);
    for (let i = 0; (await queueDepth()) < 1; i++) {
      assert.ok(i < 2_000, 'the registration never reached hashing');
      await sleep(1);
    }
    const refused = await reset(phone, code);
    assert.equal(refused.statusCode, 503, refused.body);
    assert.equal(refused.json().error.code, 'OVERLOADED');
    assert.equal((await holder).statusCode, 201);

    const retried = await reset(phone, code);
    assert.equal(retried.statusCode, 204, retried.body);
  });
});

describe('signing in with an SMS code while someone guesses at the password', () => {
  let t: TestApp;
  let consumer: TaskConsumer;
  before(async () => {
    t = await createTestApp({ RATE_LIMIT_LOGIN_PER_ACCOUNT: '8/600', RATE_LIMIT_LOGIN_PER_ACCOUNT_IP: '100/600' });
    consumer = startTaskConsumer(t);
  });
  after(async () => {
    await consumer.stop(1_000);
    await t.close();
  });

  it("an attacker who locks the account and spends its login budget does not keep the owner from signing in with a code, which lifts the lock", async () => {
    const phone = uniquePhone();
    assert.equal((await register(t, { phone })).statusCode, 201);
    const statuses = [];
    for (let i = 0; i < 10; i++) statuses.push((await login(t, phone, 'guess guess guess')).statusCode);
    assert.deepEqual(statuses, [401, 401, 401, 401, 423, 423, 423, 423, 429, 429]);
    assert.equal((await login(t, phone, 'correct horse battery')).statusCode, 429, "the password way stays shut while the account's budget is spent");

    const code = await smsCode(t, phone, 'login');
    const signedIn = await t.app.inject({ method: 'POST', url: '/api/auth/login/sms', payload: { phone, code } });
    assert.equal(signedIn.statusCode, 200, signedIn.body);
    const admin = await adminSession(t);
    const listed = await t.app.inject({ method: 'GET', url: `/api/admin/users?q=${phone.slice(-8)}`, headers: { cookie: admin.cookie } });
    assert.deepEqual(
      listed.json().users.map((u: { failed_logins: number; locked_until: string | null }) => [u.failed_logins, u.locked_until]),
      [[0, null]],
    );
  });
});

