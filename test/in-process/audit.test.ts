// The audit log's retention, filters, and the lockout event, on the durable store.
import assert from 'node:assert/strict';
import { after, before, it, describe } from 'node:test';
import { AuditLog } from '../../src/audit/service.js';
import { createTestApp, login, register, uniquePhone, type TestApp } from '../helpers/app.js';

describe('audit log', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ LOCKOUT_MAX_FAILURES: '2' });
  });
  after(() => t.close());

  it('deletes events older than the retention period, and only those', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const audit = new AuditLog(t.database, { now: () => now });
    await audit.record({ event: 'admin.created', actor: 'cli', target: 'user:1' });
    now += 10 * 86_400_000;
    await audit.record({ event: 'admin.created', actor: 'cli', target: 'user:2' });
    now += 25 * 86_400_000;
    assert.equal(await audit.sweep(30), 1);
    const left = await audit.list({ event: 'admin.created', limit: 10 });
    assert.deepEqual(left.map((e) => e.target), ['user:2']);
    const range = await audit.list({ since: Date.parse('2026-01-05T00:00:00Z'), until: Date.parse('2026-01-20T00:00:00Z'), limit: 10 });
    assert.deepEqual(range.map((e) => e.target), ['user:2']);
  });

  it('records a lockout as login.locked, with the address', async () => {
    const phone = uniquePhone();
    await register(t, { phone, password: 'correct horse battery' });
    assert.equal((await login(t, phone, 'wrong one number 1')).statusCode, 401);
    assert.equal((await login(t, phone, 'wrong one number 2')).statusCode, 423);
    const events = await new AuditLog(t.database).list({ event: 'login.*', limit: 10 });
    assert.deepEqual(events.slice(0, 2).map((e) => e.event), ['login.locked', 'login.failed']);
    assert.equal(events[0]!.ip, '127.0.0.1');
    assert.match(events[0]!.target ?? '', /^phone:\+86\d+\*{4}\d{4}$/);
  });
});
