// SMS abuse: toll fraud (SMS pumping), telling which numbers have accounts, and pre-hijacking.
// Paid messages go only to mobile numbers of allowed regions, a registration code only with an
// invitation code whose organization checks phone numbers (within its places), a change-of-number
// code only for a signed-in account, all within the service's caps; a number's daily cap counts only
// messages sent; a send does the same work for every number; and an account whose phone no code ever
// proved is taken over by the phone's holder at their first SMS sign-in.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { login, newCaptcha, register, sessionCookie, settledDelivery, smsCode, startTaskConsumer, TEST_CAPTCHA, testAppWithTasks, uniquePhone, createTestApp, type TestApp } from '../helpers/app.js';
import { metricValue } from '../helpers/cluster.js';

let codes = 0;
/** A new organization and its invitation code. */
async function organization(t: TestApp, options: { requiresSms: boolean; maxUses?: number | null }): Promise<string> {
  const now = Date.now();
  const org = await t.database.db
    .insertInto('organizations')
    .values({ name: `school ${++codes}`, created_at: now, register_requires_sms: options.requiresSms ? 1 : 0 })
    .returning('id')
    .executeTakeFirstOrThrow();
  const code = `SMSTEST${String(codes).padStart(4, '0')}`;
  await t.database.db.insertInto('invitation_codes').values({ code, organization_id: org.id, created_at: now, expires_at: null, max_uses: options.maxUses ?? null, revoked_at: null }).execute();
  return code;
}

async function send(t: TestApp, phone: string, purpose: string, extra: { invitation_code?: string; cookie?: string } = {}) {
  const { cookie, ...fields } = extra;
  const captcha_id = await newCaptcha(t.app, 'sms');
  return t.app.inject({ method: 'POST', url: '/api/auth/sms/send', headers: cookie ? { cookie } : {}, payload: { phone, purpose, captcha_id, captcha: TEST_CAPTCHA, ...fields } });
}

const deliveries = async (t: TestApp) => Number((await t.database.db.selectFrom('tasks').select((eb) => eb.fn.countAll().as('n')).where('type', '=', 'sms.deliver').executeTakeFirstOrThrow()).n);

describe('where SMS messages may go', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ SMS_ALLOWED_REGIONS: 'CN,RU' });
  });
  after(() => t.close());

  it('only mobile numbers of the allowed regions; anything else is a 400 with its own code and queues nothing', async () => {
    const before = await deliveries(t);
    const refused = [
      ['+12133734253', 'SMS_REGION_NOT_ALLOWED'], // a US number: not an allowed region
      ['+447912345678', 'SMS_REGION_NOT_ALLOWED'], // a UK mobile
      ['+861012345678', 'SMS_NOT_MOBILE'], // a Beijing fixed line
      ['+78030000000', 'SMS_NOT_MOBILE'], // a Russian premium-rate number, the pumper's favourite
      ['+78005553535', 'SMS_NOT_MOBILE'], // toll-free
    ];
    for (const [phone, code] of refused) {
      const res = await send(t, phone!, 'login');
      assert.equal(res.statusCode, 400, `${phone}: ${res.body}`);
      assert.equal(res.json().error.code, code, phone);
    }
    assert.equal(await deliveries(t), before, 'no delivery task for a refused number');
    assert.equal((await send(t, '+79150000000', 'login')).statusCode, 202, 'a Russian mobile number: an allowed region');
    assert.equal((await send(t, uniquePhone(), 'login')).statusCode, 202, 'a mainland mobile number');
    assert.equal(await deliveries(t), before + 2);
  });

  it('by default only the default region', async () => {
    const plain = await createTestApp();
    after(() => plain.close());
    assert.deepEqual(plain.config.sms.allowedRegions, ['CN']);
    assert.equal((await send(plain, '+79150000000', 'login')).json().error.code, 'SMS_REGION_NOT_ALLOWED');
  });
});

describe('who may have a code sent', () => {
  let t: TestApp;
  testAppWithTasks({ SMS_SENDS_PER_PLACE: '2' }, (app) => {
    t = app;
  });

  it('a registration code needs the invitation code of an organization that checks phone numbers', async () => {
    const without = await send(t, uniquePhone(), 'register');
    assert.equal(without.statusCode, 400);
    assert.equal(without.json().error.code, 'SMS_INVITATION_REQUIRED');
    const unchecked = await send(t, uniquePhone(), 'register', { invitation_code: await organization(t, { requiresSms: false }) });
    assert.equal(unchecked.statusCode, 403);
    assert.equal(unchecked.json().error.code, 'SMS_NOT_REQUIRED');
    const unknown = await send(t, uniquePhone(), 'register', { invitation_code: 'NOSUCHCODE' });
    assert.equal(unknown.json().error.code, 'INVALID_INVITATION_CODE');
  });

  it("registration codes count against the invitation code's places: at most SMS_SENDS_PER_PLACE per place, none once the places are taken", async () => {
    const invitation = await organization(t, { requiresSms: true, maxUses: 2 });
    const phones = [uniquePhone(), uniquePhone(), uniquePhone(), uniquePhone(), uniquePhone()];
    for (const phone of phones.slice(0, 4)) assert.equal((await send(t, phone, 'register', { invitation_code: invitation })).statusCode, 202);
    const fifth = await send(t, phones[4]!, 'register', { invitation_code: invitation });
    assert.equal(fifth.statusCode, 403, 'two places × two sends each');
    assert.equal(fifth.json().error.code, 'SMS_QUOTA_EXHAUSTED');
    const row = await t.database.db.selectFrom('invitation_codes').select(['sms_sends', 'uses']).where('code', '=', invitation).executeTakeFirstOrThrow();
    assert.deepEqual(row, { sms_sends: 4, uses: 0 });

    // The places themselves: two people register with their codes; then the code sends nothing at all.
    const roomy = await organization(t, { requiresSms: true, maxUses: 2 });
    for (const phone of [uniquePhone(), uniquePhone()]) {
      const code = await smsCode(t, phone, 'register', { invitationCode: roomy });
      assert.equal((await register(t, { phone, invitation_code: roomy, sms_code: code })).statusCode, 201);
    }
    const full = await send(t, uniquePhone(), 'register', { invitation_code: roomy });
    assert.equal(full.statusCode, 409);
    assert.equal(full.json().error.code, 'INVITATION_EXHAUSTED');
  });

  it('a code for a new number only for a signed-in account', async () => {
    const anonymous = await send(t, uniquePhone(), 'change_phone');
    assert.equal(anonymous.statusCode, 401);
    assert.equal(anonymous.json().error.code, 'UNAUTHENTICATED');
    const cookie = sessionCookie(await register(t));
    assert.equal((await send(t, uniquePhone(), 'change_phone', { cookie })).statusCode, 202);
  });
});

describe("the service's SMS caps", () => {
  it('past the hourly cap every send is refused with 429 SMS_CAP_REACHED and Retry-After, and nothing is queued; the metric shows the use', async () => {
    const t = await createTestApp({ SMS_CAP_HOURLY: '3' });
    after(() => t.close());
    for (let i = 0; i < 3; i++) assert.equal((await send(t, uniquePhone(), 'login')).statusCode, 202);
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.equal(metricValue(metrics, 'gatehouse_sms_cap_used_ratio', { scope: 'global', window: 'hour' }), 1);
    const before = await deliveries(t);
    const refused = await send(t, uniquePhone(), 'login');
    assert.equal(refused.statusCode, 429, refused.body);
    assert.deepEqual(refused.json().error, { ...refused.json().error, code: 'SMS_CAP_REACHED', cap: 'global', window: 'hour' });
    assert.ok(Number(refused.headers['retry-after']) > 3000, 'until the hour is over');
    assert.equal(await deliveries(t), before);
  });

  it('each region has its own cap', async () => {
    const t = await createTestApp({ SMS_ALLOWED_REGIONS: 'CN,RU', SMS_CAP_REGION_DAILY: '1' });
    after(() => t.close());
    assert.equal((await send(t, uniquePhone(), 'login')).statusCode, 202);
    const second = await send(t, uniquePhone(), 'login');
    assert.equal(second.statusCode, 429);
    assert.deepEqual([second.json().error.cap, second.json().error.window], ['region', 'day']);
    assert.equal((await send(t, '+79150000000', 'login')).statusCode, 202, "another region's cap is untouched");
  });

  it('a message that is not sent gives its place back', async () => {
    const t = await createTestApp({ SMS_CAP_HOURLY: '2' });
    const consumer = startTaskConsumer(t);
    after(async () => {
      await consumer.stop(1_000);
      await t.close();
    });
    // Login codes for numbers without an account: each request is accepted, no message goes out.
    for (let i = 0; i < 4; i++) {
      const phone = uniquePhone();
      assert.equal((await send(t, phone, 'login')).statusCode, 202, `send ${i + 1}`);
      assert.deepEqual((await settledDelivery(t, `+86${phone}`)).result, { sent: 'nothing' });
    }
  });
});

describe("a number's daily cap", () => {
  let t: TestApp;
  testAppWithTasks({ SMS_DAILY_CAP: '2', SMS_RESEND_SECONDS: '1' }, (app) => {
    t = app;
  });

  it('counts only messages sent: requests that send the number nothing do not use up its owner’s codes', async () => {
    const owner = uniquePhone();
    assert.equal((await register(t, { phone: owner })).statusCode, 201);
    const attacker = sessionCookie(await register(t));
    // "Move my account to this number": the number has an account, so nothing is sent, three times.
    for (let i = 0; i < 3; i++) {
      if (i > 0) await sleep(1_100);
      assert.equal((await send(t, owner, 'change_phone', { cookie: attacker })).statusCode, 202);
      assert.deepEqual((await settledDelivery(t, `+86${owner}`)).result, { sent: 'nothing' });
    }
    assert.match(await smsCode(t, owner, 'login'), /^\d{6}$/, "the owner's code still comes");
    assert.match(await smsCode(t, owner, 'reset_password'), /^\d{6}$/);
    await sleep(1_100);
    assert.equal((await send(t, owner, 'login')).statusCode, 202, 'the same answer past the cap');
    assert.deepEqual((await settledDelivery(t, `+86${owner}`)).result, { sent: 'nothing' }, 'but the third message of the day is not sent');
  });
});

describe('which numbers have accounts', () => {
  let t: TestApp;
  let invitation: string;
  testAppWithTasks({}, async (app) => {
    t = app;
    invitation = await organization(t, { requiresSms: true, maxUses: 50 });
  });

  const outbox = (e164: string) => t.database.db.selectFrom('sms_outbox').select(['purpose', 'message']).where('phone', '=', e164).orderBy('id').execute();

  it('registering a taken number answers as for a free one; its owner is told that someone tried', async () => {
    const taken = uniquePhone();
    assert.equal((await register(t, { phone: taken })).statusCode, 201);
    const free = uniquePhone();
    const before = await deliveries(t);
    const toTaken = await send(t, taken, 'register', { invitation_code: invitation });
    const toFree = await send(t, free, 'register', { invitation_code: invitation });
    assert.deepEqual([toTaken.statusCode, toTaken.json()], [toFree.statusCode, toFree.json()]);
    assert.equal(await deliveries(t), before + 2, 'both requests queued a delivery: the same work');
    assert.deepEqual((await settledDelivery(t, `+86${taken}`)).result?.sent, 'taken_notice');
    assert.deepEqual((await settledDelivery(t, `+86${free}`)).result?.sent, 'code');
    const [notice] = await outbox(`+86${taken}`);
    assert.doesNotMatch(notice!.message, /\d{6}/, 'the notice carries no code');
    assert.match(notice!.message, /注册/);

    // The registration itself: no code reached anyone for the taken number, and a guess fails as for a free one.
    const registerWith = (phone: string, sms_code?: string) => register(t, { phone, invitation_code: invitation, ...(sms_code ? { sms_code } : {}) });
    const [takenNoCode, freeNoCode] = [await registerWith(taken), await registerWith(free)];
    assert.deepEqual([takenNoCode.statusCode, takenNoCode.json().error.code], [freeNoCode.statusCode, freeNoCode.json().error.code]);
    const [takenGuess, freeGuess] = [await registerWith(taken, '123456'), await registerWith(free, '123456')];
    assert.deepEqual([takenGuess.statusCode, takenGuess.json().error.code], [401, 'INVALID_SMS_CODE']);
    assert.deepEqual([freeGuess.statusCode, freeGuess.json().error.code], [401, 'INVALID_SMS_CODE']);
  });

  it('a login code for a number without an account queues a delivery too, which sends nothing', async () => {
    const before = await deliveries(t);
    const phone = uniquePhone();
    assert.equal((await send(t, phone, 'login')).statusCode, 202);
    assert.equal(await deliveries(t), before + 1);
    assert.deepEqual((await settledDelivery(t, `+86${phone}`)).result, { sent: 'nothing' });
    assert.deepEqual(await outbox(`+86${phone}`), []);
  });
});

describe('pre-hijacking: an account registered with someone else’s number', () => {
  let t: TestApp;
  testAppWithTasks({ SMS_RESEND_SECONDS: '1' }, (app) => {
    t = app;
  });

  const me = (cookie: string) => t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } });
  const smsLogin = async (phone: string) => t.app.inject({ method: 'POST', url: '/api/auth/login/sms', payload: { phone, code: await smsCode(t, phone, 'login') } });

  it("the phone's holder signs in by SMS: the squatter's password and sessions end, and the owner sets a new password", async () => {
    const victim = uniquePhone();
    // An organization without SMS checks: anyone may register any number.
    const squatter = await register(t, { phone: victim, password: "the squatter's password" });
    assert.equal(squatter.statusCode, 201);
    assert.equal(squatter.json().user.password_set, true);
    const squatterCookie = sessionCookie(squatter);

    const owner = await smsLogin(victim);
    assert.equal(owner.statusCode, 200, owner.body);
    assert.equal(owner.json().user.password_set, false, 'the owner is asked to set a password');
    const ownerCookie = sessionCookie(owner);
    assert.equal((await me(squatterCookie)).statusCode, 401, "the squatter's session ended");
    assert.equal((await login(t, victim, "the squatter's password")).statusCode, 401, "the squatter's password no longer works");
    const [event] = await t.database.db.selectFrom('audit_events').select('detail').where('event', '=', 'login.ok').orderBy('id', 'desc').limit(1).execute();
    assert.deepEqual(JSON.parse(String(event!.detail)), { method: 'sms', password_cleared: true });

    const set = await t.app.inject({ method: 'POST', url: '/api/auth/password', headers: { cookie: ownerCookie }, payload: { new_password: "the owner's own passphrase" } });
    assert.equal(set.statusCode, 204, set.body);
    const passwordSession = sessionCookie(await login(t, victim, "the owner's own passphrase"));
    // Proven once: later SMS sign-ins leave the password and the other sessions alone.
    await sleep(1_100);
    const again = await smsLogin(victim);
    assert.equal(again.json().user.password_set, true);
    assert.equal((await me(passwordSession)).statusCode, 200);
  });

  it('an account whose phone a code proved at registration keeps its password and sessions', async () => {
    const invitation = await organization(t, { requiresSms: true });
    const phone = uniquePhone();
    const registered = await register(t, { phone, invitation_code: invitation, sms_code: await smsCode(t, phone, 'register', { invitationCode: invitation }) });
    assert.equal(registered.statusCode, 201, registered.body);
    const signedIn = await smsLogin(phone);
    assert.equal(signedIn.json().user.password_set, true);
    assert.equal((await me(sessionCookie(registered))).statusCode, 200);
  });
});
