// The proof-of-work challenge (ALTCHA protocol 2): wire format, single use across workers, expiry,
// purpose, adaptive difficulty, and the routes taking either kind of captcha as CAPTCHA_MODE allows.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ProofOfWork, counterRange, levelForCount, POW_FREE_PER_ADDRESS, POW_FREE_PER_PHONE } from '../../src/captcha/pow.js';
import { createMemoryStore } from '../../src/kv/memory.js';
import { fetchChallenge, newAltcha, solvePayload } from '../helpers/altcha.js';
import { anotherWorker, createTestApp, newCaptcha, register, TEST_CAPTCHA, TEST_PASSWORD, uniquePhone, type TestApp } from '../helpers/app.js';

const client = (network: string) => ({ network, exempt: false });

describe('altcha: the proof-of-work service', () => {
  it('creates challenges in altcha-lib 2 format, signed, with purpose, level and expiry inside the signature', async () => {
    const pow = new ProofOfWork({ kv: createMemoryStore(), secret: 's'.repeat(40), ttlSeconds: 300 });
    const challenge = await pow.issue('login', client('198.51.100.1'));
    assert.equal(challenge.parameters.algorithm, 'PBKDF2/SHA-256');
    assert.match(challenge.signature!, /^[0-9a-f]{64}$/);
    assert.match(challenge.parameters.keySignature!, /^[0-9a-f]{64}$/, 'deterministic: verify is an HMAC, not a key derivation');
    assert.deepEqual(challenge.parameters.data, { purpose: 'login', level: 0 });
    assert.ok(challenge.parameters.expiresAt! > Date.now() / 1000 + 290);
    const payload = await solvePayload(challenge);
    // Tampering with the signed purpose breaks the signature.
    const tampered = JSON.parse(Buffer.from(payload, 'base64').toString());
    tampered.challenge.parameters.data.purpose = 'register';
    assert.equal(await pow.check(Buffer.from(JSON.stringify(tampered)).toString('base64'), 'register'), 'wrong');
    assert.equal(await pow.check(payload, 'login'), 'ok');
    assert.equal(await pow.check(payload, 'login'), 'expired', 'single use');
  });

  it('refuses a solution for another purpose, and that attempt uses it up', async () => {
    const pow = new ProofOfWork({ kv: createMemoryStore(), secret: 's'.repeat(40), ttlSeconds: 300 });
    const payload = await solvePayload(await pow.issue('sms'));
    assert.equal(await pow.check(payload, 'login'), 'wrong');
    assert.equal(await pow.check(payload, 'sms'), 'expired');
    const any = await solvePayload(await pow.issue('any'));
    assert.equal(await pow.check(any, 'register'), 'ok', 'purpose any serves every use');
  });

  it('refuses an expired solution', async () => {
    const pow = new ProofOfWork({ kv: createMemoryStore(), secret: 's'.repeat(40), ttlSeconds: 1 });
    const payload = await solvePayload(await pow.issue('login'));
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    assert.equal(await pow.check(payload, 'login'), 'expired');
  });

  it('refuses garbage, a wrong derived key, and a challenge signed with another secret, without using the challenge up', async () => {
    const kv = createMemoryStore();
    const pow = new ProofOfWork({ kv, secret: 's'.repeat(40), ttlSeconds: 300 });
    const other = new ProofOfWork({ kv, secret: 't'.repeat(40), ttlSeconds: 300 });
    for (const junk of ['', 'bm90IGpzb24=', Buffer.from('{"challenge":1,"solution":2}').toString('base64'), '!!!']) assert.equal(await pow.check(junk, 'login'), 'wrong');
    assert.equal(await pow.check(await solvePayload(await other.issue('login')), 'login'), 'wrong');
    const payload = await solvePayload(await pow.issue('login'));
    const wrongKey = JSON.parse(Buffer.from(payload, 'base64').toString());
    wrongKey.solution.derivedKey = '00'.repeat(32);
    assert.equal(await pow.check(Buffer.from(JSON.stringify(wrongKey)).toString('base64'), 'login'), 'wrong');
    assert.equal(await pow.check(payload, 'login'), 'ok', 'the failed attempts did not use it up');
  });

  it('raises the difficulty for an address flooding challenges, and not for its neighbour', async () => {
    const pow = new ProofOfWork({ kv: createMemoryStore(), secret: 's'.repeat(40), ttlSeconds: 300 });
    const levels: number[] = [];
    for (let i = 0; i < POW_FREE_PER_ADDRESS * 8; i++) levels.push(Number((await pow.issue('login', client('203.0.113.7'))).parameters.data!.level));
    assert.deepEqual(levels.slice(0, POW_FREE_PER_ADDRESS), Array(POW_FREE_PER_ADDRESS).fill(0), 'ordinary use stays at level 0');
    assert.ok(levels.at(-1)! >= 3, `levels rise under a flood: ${levels.at(-1)}`);
    for (let i = 1; i < levels.length; i++) assert.ok(levels[i]! >= levels[i - 1]!, 'never falls within the window');
    assert.equal((await pow.issue('login', client('203.0.113.8'))).parameters.data!.level, 0);
    assert.equal((await pow.issue('login', { network: '203.0.113.7', exempt: true })).parameters.data!.level, 0, 'RATE_LIMIT_EXEMPT addresses are not counted');
    // The level sets the counter the solver must reach: the work grows by POW_LEVEL_FACTOR per level.
    assert.ok(counterRange(3).min >= 64 * counterRange(0).min);
    assert.equal(levelForCount(POW_FREE_PER_ADDRESS, POW_FREE_PER_ADDRESS), 0);
    assert.equal(levelForCount(POW_FREE_PER_ADDRESS + 1, POW_FREE_PER_ADDRESS), 1);
  });

  it('raises the difficulty for a phone number used many times: an easy challenge is refused for it until asked with the phone', async () => {
    const pow = new ProofOfWork({ kv: createMemoryStore(), secret: 's'.repeat(40), ttlSeconds: 300 });
    const phone = '+8613900001111';
    for (let i = 0; i < POW_FREE_PER_PHONE; i++) assert.equal(await pow.check('bm90', 'sms', phone), 'wrong');
    // Garbage counts nothing (it fails before the phone is counted); real uses do.
    for (let i = 0; i < POW_FREE_PER_PHONE; i++) {
      const challenge = await pow.issue('sms', client(`198.51.100.${i}`));
      assert.equal(await pow.check(await solvePayload(challenge), 'sms', phone), 'ok');
    }
    const easy = await solvePayload(await pow.issue('sms', client('198.51.100.200')));
    assert.equal(await pow.check(easy, 'sms', phone), 'too_easy');
    const hard = await pow.issue('sms', client('198.51.100.201'), phone);
    assert.ok(Number(hard.parameters.data!.level) >= 1, 'asked with the phone, the challenge is harder');
    assert.equal(await pow.check(await solvePayload(hard), 'sms', phone), 'ok');
    assert.equal(await pow.check(easy, 'sms', '+8613900002222'), 'ok', 'the refused easy challenge stayed unused, and serves another number');
  });
});

describe('altcha: the routes', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('GET /api/auth/altcha/challenge answers altcha-lib JSON, not cached; /api/auth/captcha/mode says either', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/auth/altcha/challenge?purpose=register' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['cache-control'], 'no-store');
    const body = res.json();
    assert.deepEqual(Object.keys(body).sort(), ['parameters', 'signature']);
    assert.deepEqual(Object.keys(body.parameters).sort(), ['algorithm', 'cost', 'data', 'expiresAt', 'keyLength', 'keyPrefix', 'keySignature', 'nonce', 'salt']);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/auth/altcha/challenge?purpose=admin' })).statusCode, 400);
    assert.deepEqual((await t.app.inject({ method: 'GET', url: '/api/auth/captcha/mode' })).json(), { mode: 'either' });
  });

  it('register, login and sms/send take altcha instead of captcha_id + captcha', async () => {
    const phone = uniquePhone();
    const registered = await register(t, { phone, captcha_id: undefined, captcha: undefined, altcha: await newAltcha(t.app, 'register') });
    assert.equal(registered.statusCode, 201, registered.body);
    const loggedIn = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { phone, password: TEST_PASSWORD, altcha: await newAltcha(t.app, 'login') } });
    assert.equal(loggedIn.statusCode, 200, loggedIn.body);
    const sent = await t.app.inject({ method: 'POST', url: '/api/auth/sms/send', payload: { phone, purpose: 'login', altcha: await newAltcha(t.app, 'sms') } });
    assert.equal(sent.statusCode, 202, sent.body);
  });

  it('a login solution is refused by register, and a used one by login', async () => {
    const phone = uniquePhone();
    const forLogin = await newAltcha(t.app, 'login');
    const wrongPurpose = await register(t, { phone, captcha_id: undefined, captcha: undefined, altcha: forLogin });
    assert.equal(wrongPurpose.json().error.code, 'CAPTCHA_INVALID');
    const again = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { phone, password: TEST_PASSWORD, altcha: forLogin } });
    assert.equal(again.json().error.code, 'CAPTCHA_EXPIRED');
  });

  it('one captcha, of one kind: none, both, or half the image captcha is VALIDATION_FAILED', async () => {
    const phone = uniquePhone();
    const none = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { phone, password: TEST_PASSWORD } });
    assert.equal(none.json().error.code, 'VALIDATION_FAILED');
    const half = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { phone, password: TEST_PASSWORD, captcha: TEST_CAPTCHA } });
    assert.equal(half.json().error.code, 'VALIDATION_FAILED');
    const both = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { phone, password: TEST_PASSWORD, captcha_id: await newCaptcha(t.app, 'login'), captcha: TEST_CAPTCHA, altcha: await newAltcha(t.app, 'login') },
    });
    assert.equal(both.json().error.code, 'VALIDATION_FAILED');
    const notBase64 = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { phone, password: TEST_PASSWORD, altcha: 'not base64!' } });
    assert.equal(notBase64.json().error.code, 'VALIDATION_FAILED');
  });

  it('replay race: many concurrent submissions of one solution through two workers on one store, exactly one passes', async () => {
    const phone = uniquePhone();
    assert.equal((await register(t, { phone })).statusCode, 201);
    const second = await anotherWorker(t);
    try {
      const payload = await newAltcha(t.app, 'login');
      const attempts = await Promise.all(
        // No more than POW_FREE_PER_PHONE: each verified submission counts for the phone's difficulty.
        Array.from({ length: POW_FREE_PER_PHONE }, (_, i) =>
          (i % 2 ? second.app : t.app).inject({ method: 'POST', url: '/api/auth/login', payload: { phone, password: TEST_PASSWORD, altcha: payload }, remoteAddress: `192.0.2.${i + 1}` }),
        ),
      );
      const codes = attempts.map((res) => res.statusCode);
      assert.equal(codes.filter((code) => code === 200).length, 1, codes.join(','));
      for (const res of attempts.filter((r) => r.statusCode !== 200)) assert.equal(res.json().error.code, 'CAPTCHA_EXPIRED');
    } finally {
      await second.app.close();
    }
  });

  it('difficulty rises under a flood of challenge requests from one address, through the route', async () => {
    const levels: number[] = [];
    for (let i = 0; i < POW_FREE_PER_ADDRESS * 4; i++) {
      const challenge = await fetchChallenge(t.app, '?purpose=login', {});
      levels.push(Number(challenge.parameters.data!.level));
    }
    // inject's default address is 127.0.0.1, counted like any other unless RATE_LIMIT_EXEMPT lists it.
    assert.equal(levels[0], 0);
    assert.ok(levels.at(-1)! >= 2, levels.join(','));
  });
});

describe('altcha: CAPTCHA_MODE', () => {
  it('image refuses altcha and the challenge route; pow refuses the image captcha and its route', async () => {
    const image = await createTestApp({ CAPTCHA_MODE: 'image' });
    const pow = await createTestApp({ CAPTCHA_MODE: 'pow' });
    try {
      const phone = uniquePhone();
      assert.equal((await image.app.inject({ method: 'GET', url: '/api/auth/altcha/challenge' })).json().error.code, 'CAPTCHA_KIND_NOT_ACCEPTED');
      const altchaFromElsewhere = await newAltcha(pow.app, 'login');
      const refused = await image.app.inject({ method: 'POST', url: '/api/auth/login', payload: { phone, password: TEST_PASSWORD, altcha: altchaFromElsewhere } });
      assert.equal(refused.json().error.code, 'CAPTCHA_KIND_NOT_ACCEPTED');
      assert.deepEqual((await pow.app.inject({ method: 'GET', url: '/api/auth/captcha/mode' })).json(), { mode: 'pow' });
      assert.equal((await pow.app.inject({ method: 'GET', url: '/api/auth/captcha/generate' })).json().error.code, 'CAPTCHA_KIND_NOT_ACCEPTED');
      const imageCaptcha = await newCaptcha(image.app, 'login');
      const noImage = await pow.app.inject({ method: 'POST', url: '/api/auth/login', payload: { phone, password: TEST_PASSWORD, captcha_id: imageCaptcha, captcha: TEST_CAPTCHA } });
      assert.equal(noImage.json().error.code, 'CAPTCHA_KIND_NOT_ACCEPTED');
      const registered = await pow.app.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: { phone, password: TEST_PASSWORD, name: '张老师', invitation_code: pow.invitationCode, altcha: await newAltcha(pow.app, 'register') },
      });
      assert.equal(registered.statusCode, 201, registered.body);
    } finally {
      await image.close();
      await pow.close();
    }
  });
});
