import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CAPTCHA_ALPHABET, CaptchaService, drawRandomAnswer } from '../../src/captcha/service.js';
import { createMemoryStore } from '../../src/kv/memory.js';
import { createTestApp } from '../helpers/app.js';

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function service(answers: string[], now?: () => number) {
  const kv = createMemoryStore(now);
  const captcha = new CaptchaService({ kv, secret: 's'.repeat(40), ttlSeconds: 300, length: 4, drawAnswer: () => answers.shift()! });
  return { kv, captcha };
}

describe('captcha', () => {
  it('answers come from a 32-symbol alphabet without look-alikes: 4 characters carry 20 bits', () => {
    assert.equal(new Set(CAPTCHA_ALPHABET).size, 32);
    for (const confusable of ['0', 'O', '1', 'I']) assert.ok(!CAPTCHA_ALPHABET.includes(confusable), confusable);
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const answer = drawRandomAnswer(4);
      assert.match(answer, /^[A-HJ-NP-Z2-9]{4}$/);
      for (const ch of answer) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    assert.equal(counts.size, 32, 'every symbol is drawn');
    // 16,000 draws over 32 symbols: 500 each on average; a CSPRNG stays well within ±40%.
    for (const [ch, n] of counts) assert.ok(n > 300 && n < 700, `${ch} drawn ${n} times`);
  });

  it('stores only an HMAC of the answer, and accepts the right answer once, case- and space-insensitively', async () => {
    const { kv, captcha } = service(['AB3K', 'XY7Q']);
    const issued = await captcha.issue('login');
    const stored = await kv.get(`captcha:${issued.id}`);
    assert.ok(stored && !stored.toUpperCase().includes('AB3K'), 'the answer itself is not stored');
    assert.match(stored!, /^login:[0-9a-f]{64}$/);
    assert.equal(await captcha.check(issued.id, ' ab3k ', 'login'), 'ok');
    assert.equal(await captcha.check(issued.id, 'AB3K', 'login'), 'expired');
  });

  it('a wrong answer and a wrong purpose consume the captcha', async () => {
    const { captcha } = service(['AB3K', 'CD4M']);
    const a = await captcha.issue('login');
    assert.equal(await captcha.check(a.id, 'ZZZZ', 'login'), 'wrong');
    assert.equal(await captcha.check(a.id, 'AB3K', 'login'), 'expired');
    const b = await captcha.issue('register');
    assert.equal(await captcha.check(b.id, 'CD4M', 'login'), 'wrong');
    assert.equal(await captcha.check(b.id, 'CD4M', 'register'), 'expired');
  });

  it('a captcha issued for any purpose is accepted by every use', async () => {
    const { captcha } = service(['AB3K']);
    const a = await captcha.issue();
    assert.equal(await captcha.check(a.id, 'AB3K', 'sms'), 'ok');
  });

  it('expires after its TTL', async () => {
    let now = 0;
    const { captcha } = service(['AB3K'], () => now);
    const a = await captcha.issue('login');
    now += 300_000;
    assert.equal(await captcha.check(a.id, 'AB3K', 'login'), 'expired');
  });

  it('the endpoint returns a small PNG data URL, never cached, with a fresh id each time', async () => {
    const t = await createTestApp();
    try {
      const ids = new Set<string>();
      for (let i = 0; i < 5; i++) {
        const res = await t.app.inject({ method: 'GET', url: '/api/auth/captcha/generate' });
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['cache-control'], 'no-store');
        const body = res.json();
        assert.equal(body.expires_in, 300);
        assert.match(body.captcha_id, /^[A-Za-z0-9_-]{22}$/);
        ids.add(body.captcha_id);
        const png = Buffer.from(body.captcha_image.replace(/^data:image\/png;base64,/, ''), 'base64');
        assert.deepEqual(png.subarray(0, 8), PNG_MAGIC);
        assert.equal(png.readUInt32BE(16), 120, 'width');
        assert.equal(png.readUInt32BE(20), 40, 'height');
        assert.ok(png.length < 10_240, `PNG is ${png.length} bytes`);
      }
      assert.equal(ids.size, 5);
    } finally {
      await t.close();
    }
  });
});
