// The console provider's outbox holds codes in plain text: every read is audited, rows expire, and the
// provider is refused in production.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuditLog } from '../../src/audit/service.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { OPERATOR } from '../../src/principal.js';
import { SmsOutbox } from '../../src/sms/outbox.js';
import { adminSession, createTestApp, type TestApp } from '../helpers/app.js';

const HOUR = 3_600_000;

describe('SMS outbox (console provider)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  async function write(phone: string, at: number, taskId: string) {
    await t.database.db.insertInto('sms_outbox').values({ at, phone, purpose: 'login', message: 'Your code is 123456', task_id: taskId }).execute();
  }

  it('each read of the outbox is in the audit log: who, which phone (masked), how many messages', async () => {
    const admin = await adminSession(t);
    await write('+8613900001111', Date.now(), 'outbox-read-1');
    const one = await t.app.inject({ method: 'GET', url: `/api/admin/sms/outbox?phone=${encodeURIComponent('13900001111')}`, headers: { cookie: admin.cookie } });
    assert.equal(one.statusCode, 200);
    assert.equal(one.json().messages.length, 1);
    const all = await t.app.inject({ method: 'GET', url: '/api/admin/sms/outbox', headers: { cookie: admin.cookie } });
    assert.equal(all.statusCode, 200);
    const events = await new AuditLog(t.database).list({ event: 'admin.sms_outbox_read', limit: 10 });
    assert.equal(events.length, 2, 'one event per read');
    const [everything, byPhone] = events;
    assert.equal(byPhone!.actor, `user:${admin.userId}`);
    assert.match(byPhone!.target!, /^phone:\+86139\*+1111$/);
    assert.doesNotMatch(JSON.stringify(byPhone), /13900001111/, 'the phone is masked in the log');
    assert.deepEqual((byPhone!.detail as { messages: number }).messages, 1);
    assert.equal(everything!.target, 'sms_outbox');
  });

  it('messages are deleted SMS_OUTBOX_RETENTION_HOURS after they were written, by the sweep', async () => {
    const start = Date.now();
    await write('+8613900002222', start, 'outbox-sweep-1');
    const audit = new AuditLog(t.database);
    const at = (hours: number) => new SmsOutbox(t.database, { audit, retentionHours: 24, now: () => start + hours * HOUR });
    const left = async () => (await at(0).read(OPERATOR, { phone: '+8613900002222', limit: 10 })).length;
    assert.equal(await at(23).sweepExpired(), 0);
    assert.equal(await left(), 1);
    assert.ok((await at(24).sweepExpired()) >= 1);
    assert.equal(await left(), 0);
    assert.equal(loadConfig({}, {}).sms.outboxRetentionHours, 24);
  });
});

describe('SMS_PROVIDER=console in production', () => {
  it('is refused with a message that says why and what to set instead, also as the default', () => {
    for (const env of [{ NODE_ENV: 'production' }, { NODE_ENV: 'production', SMS_PROVIDER: 'console' }]) {
      assert.throws(() => loadConfig(env, {}), (e: unknown) => e instanceof ConfigError && /SMS_PROVIDER=console/.test(e.message) && /production/.test(e.message) && /tencent|webhook/.test(e.message));
    }
    assert.doesNotThrow(() => loadConfig({ NODE_ENV: 'production', SMS_PROVIDER: 'webhook', SMS_WEBHOOK_URL: 'https://sms.example/send', SMS_WEBHOOK_SECRET: 'w'.repeat(20) }, {}));
    assert.equal(loadConfig({}, {}).sms.provider, 'console', 'still the default outside production');
  });
});
