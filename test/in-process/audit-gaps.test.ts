// Security events that end or grant access, or copy personal data out, are each in the audit log
// once: signing out, ending one's own sessions, administrators made at the command line or by a
// roster, member-list downloads.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { AuditLog } from '../../src/audit/service.js';
import { OPERATOR } from '../../src/principal.js';
import { createPasswordHasher } from '../../src/security/password.js';
import { createServices } from '../../src/services.js';
import { createSqlQueue } from '../../src/tasks/sql-queue.js';
import type { TaskConsumer } from '../../src/tasks/types.js';
import { adminSession, createTestApp, login, register, sessionCookie, startTaskConsumer, TEST_SECRET, uniquePhone, type TestApp } from '../helpers/app.js';

describe('audit log: events that were missing', () => {
  let t: TestApp;
  let audit: AuditLog;
  let consumer: TaskConsumer;
  before(async () => {
    t = await createTestApp();
    audit = new AuditLog(t.database);
    consumer = startTaskConsumer(t);
  });
  after(async () => {
    await consumer.stop(1_000);
    await t.close();
  });

  const events = (event: string, target?: string) => audit.list({ event, target, limit: 50 });

  it('signing out, ending one of one\'s sessions and ending all the others: one event each, by the user', async () => {
    const phone = uniquePhone();
    const first = await register(t, { phone });
    const userId = first.json().user.id as number;
    const cookies = [sessionCookie(first)];
    for (let i = 0; i < 3; i++) cookies.push(sessionCookie(await login(t, phone, 'correct horse battery')));
    const target = `user:${userId}`;

    const listed = (await t.app.inject({ method: 'GET', url: '/api/auth/sessions', headers: { cookie: cookies[0]! } })).json().sessions as Array<{ id: number; current: boolean }>;
    const other = listed.find((s) => !s.current)!;
    assert.equal((await t.app.inject({ method: 'DELETE', url: `/api/auth/sessions/${other.id}`, headers: { cookie: cookies[0]! } })).statusCode, 204);
    assert.equal((await t.app.inject({ method: 'DELETE', url: `/api/auth/sessions/${other.id}`, headers: { cookie: cookies[0]! } })).statusCode, 404, 'already gone');
    const revoked = await events('session.revoked', target);
    assert.equal(revoked.length, 1, 'one event; the 404 wrote none');
    assert.deepEqual([revoked[0]!.actor, revoked[0]!.ip, revoked[0]!.detail], [target, '127.0.0.1', { session_id: other.id }]);

    const others = await t.app.inject({ method: 'DELETE', url: '/api/auth/sessions', headers: { cookie: cookies[0]! } });
    assert.equal(others.json().revoked, 2);
    const revokedOthers = await events('session.revoked_others', target);
    assert.equal(revokedOthers.length, 1);
    assert.equal((revokedOthers[0]!.detail as { revoked: number }).revoked, 2);

    assert.equal((await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie: cookies[0]! } })).statusCode, 204);
    const logouts = await events('logout', target);
    assert.equal(logouts.length, 1);
    assert.equal(logouts[0]!.actor, target);
  });

  it('an administrator created as the command line does it: admin.created by cli, with the account', async () => {
    const hasher = createPasswordHasher(1, t.config.passwordHash);
    try {
      const { registration } = createServices({ config: t.config, database: t.database, kv: t.kv, secret: TEST_SECRET, hasher, tasks: createSqlQueue(t.database, { leaseMs: 5_000, pollMs: 10 }) });
      const admin = await registration.createUser(OPERATOR, { phone: uniquePhone(), name: 'Root', password: 'a chosen admin passphrase', organizationId: 1, role: 'admin' });
      const created = await events('admin.created', `user:${admin.id}`);
      assert.equal(created.length, 1);
      assert.deepEqual([created[0]!.actor, created[0]!.ip, (created[0]!.detail as { via: string }).via], ['cli', null, 'cli']);
    } finally {
      await hasher.close();
    }
  });

  it('administrators made by a roster import: admin.created for each, in the uploader\'s name; none for other rows', async () => {
    const uploader = await adminSession(t);
    const [adminPhone, teacherPhone] = ['13955500001', '13955500002'];
    const csv = `name,phone,role\nBoss,${adminPhone},admin\nTeacher,${teacherPhone},teacher\n`;
    const res = await t.app.inject({ method: 'POST', url: '/api/admin/organizations/1/imports', headers: { cookie: uploader.cookie, 'content-type': 'text/csv' }, payload: csv });
    assert.equal(res.statusCode, 202, res.body);
    const id = res.json().import.id as number;
    for (let i = 0; i < 500; i++) {
      const state = (await t.app.inject({ method: 'GET', url: `/api/admin/imports/${id}`, headers: { cookie: uploader.cookie } })).json().import.task.state;
      if (state === 'succeeded') break;
      await sleep(10);
    }
    const user = (phone: string) => t.database.db.selectFrom('users').select(['id', 'role']).where('phone', '=', `+86${phone}`).executeTakeFirstOrThrow();
    const boss = await user(adminPhone);
    assert.equal(boss.role, 'admin');
    const created = await events('admin.created', `user:${boss.id}`);
    assert.equal(created.length, 1);
    assert.equal(created[0]!.actor, `user:${uploader.userId}`);
    assert.deepEqual(created[0]!.detail, { organization_id: 1, role: 'admin', via: 'roster', import_id: id });
    assert.equal((await events('admin.created', `user:${(await user(teacherPhone)).id}`)).length, 0);
  });

  it('each download of a member export: admin.export_downloaded, by whoever downloaded it', async () => {
    const admin = await adminSession(t);
    const started = await t.app.inject({ method: 'POST', url: '/api/admin/organizations/1/exports', headers: { cookie: admin.cookie } });
    assert.equal(started.statusCode, 202, started.body);
    const id = started.json().export.id as number;
    let file;
    for (let i = 0; i < 500; i++) {
      file = await t.app.inject({ method: 'GET', url: `/api/admin/exports/${id}/file`, headers: { cookie: admin.cookie } });
      if (file.statusCode !== 409) break;
      await sleep(10);
    }
    assert.equal(file!.statusCode, 200);
    assert.equal((await t.app.inject({ method: 'GET', url: `/api/admin/exports/${id}/file`, headers: { cookie: admin.cookie } })).statusCode, 200);
    const downloads = (await events('admin.export_downloaded', 'organization:1')).filter((e) => (e.detail as { export_id: number }).export_id === id);
    assert.equal(downloads.length, 2, 'one per download');
    assert.equal(downloads[0]!.actor, `user:${admin.userId}`);
  });
});
