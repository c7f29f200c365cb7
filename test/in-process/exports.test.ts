// Roster export: an admin asks for an organization's member list, a roster.export task writes it, and
// the CSV that comes back lists exactly that organization's members — defused for spreadsheets, paged
// past the handler's page size, and readable by the roster import as it is.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { ExportService } from '../../src/exports/service.js';
import { OPERATOR } from '../../src/principal.js';
import { parseRoster } from '../../src/imports/roster-file.js';
import { csvCellText, csvField } from '../../src/text/csv.js';
import type { TaskConsumer } from '../../src/tasks/types.js';
import { adminSession, createTestApp, register, sessionCookie, startTaskConsumer, uniquePhone, type TestApp } from '../helpers/app.js';

describe('CSV cells', () => {
  it('guards formulas with a quote mark, and reading the cell back gives every text exactly', () => {
    const texts = ['+8613800138000', '=1+1', '-3', '@x', "'=1", "''+1", "'plain", 'plain', '', "it's"];
    for (const text of texts) {
      const [cell] = parse(csvField(text), { relax_quotes: true }) as string[][];
      assert.ok(!/^[=+\-@]/.test(cell?.[0] ?? ''), `${text} is no formula in the file`);
      assert.equal(csvCellText(cell?.[0] ?? ''), text);
    }
  });
});

describe('roster export through the admin API', () => {
  let t: TestApp;
  let headers: { cookie: string };
  let consumer: TaskConsumer | undefined;
  let orgId: number;
  let code: string;

  before(async () => {
    t = await createTestApp({ IMPORT_MAX_ROWS: '5000' });
    headers = { cookie: (await adminSession(t)).cookie };
    const created = (await t.app.inject({ method: 'POST', url: '/api/admin/organizations', headers, payload: { name: 'Export school' } })).json();
    orgId = created.organization.id;
    code = created.invitation.invitation_code;
  });
  after(async () => {
    await consumer?.stop(1_000);
    await t.close();
  });

  const startExport = (id = orgId, as: Record<string, string> = headers) => t.app.inject({ method: 'POST', url: `/api/admin/organizations/${id}/exports`, headers: as });
  const file = (id: number) => t.app.inject({ method: 'GET', url: `/api/admin/exports/${id}/file`, headers });

  async function finished(id: number) {
    for (let i = 0; i < 1000; i++) {
      const res = await t.app.inject({ method: 'GET', url: `/api/admin/exports/${id}`, headers });
      if (res.json().export.task.state === 'succeeded') return res.json().export;
      await sleep(10);
    }
    throw new Error('export did not finish');
  }

  it("lists the organization's members — registered and imported — as a CSV the roster import reads back", async () => {
    const registered = [
      { phone: uniquePhone(), name: '张老师' },
      { phone: uniquePhone(), name: '=HYPERLINK("http://evil.example")' },
      { phone: uniquePhone(), name: 'Wang, "Jr"' },
    ];
    for (const person of registered) assert.equal((await register(t, { ...person, invitation_code: code })).statusCode, 201);
    assert.equal((await register(t)).statusCode, 201, 'a member of another organization, who must not be listed');
    const roster = ['name,phone,role', '导入老师,13700000001,teacher', '导入管理员,13700000002,admin'].join('\n');
    const imported = await t.app.inject({ method: 'POST', url: `/api/admin/organizations/${orgId}/imports`, headers: { ...headers, 'content-type': 'text/csv' }, payload: roster });
    assert.equal(imported.statusCode, 202);

    const res = await startExport();
    assert.equal(res.statusCode, 202, res.body);
    const id = res.json().export.id;
    assert.equal(res.json().export.rows, null);
    // No worker has run it yet.
    const early = await file(id);
    assert.equal(early.statusCode, 409);
    assert.equal(early.json().error.code, 'EXPORT_NOT_READY');

    consumer = startTaskConsumer(t);
    const done = await finished(id);
    assert.equal(done.rows, 5);
    assert.ok(done.finished_at);
    const csv = await file(id);
    assert.equal(csv.statusCode, 200);
    assert.match(csv.headers['content-type'] as string, /^text\/csv; charset=utf-8/);
    assert.match(csv.headers['content-disposition'] as string, new RegExp(`^attachment; filename="organization-${orgId}-members-${id}\\.csv"$`));
    assert.ok(csv.body.startsWith('\uFEFFname,phone,role,status,registered_at,invitation_code,password_set\r\n'), csv.body.slice(0, 80));

    const records = parse(csv.body.slice(1), { columns: true }) as Array<Record<string, string>>;
    assert.deepEqual(
      records.map((r) => [r.name, r.phone, r.role, r.status, r.invitation_code, r.password_set]),
      [
        ['张老师', `'+86${registered[0]!.phone}`, 'user', 'active', code, 'yes'],
        [`'${registered[1]!.name}`, `'+86${registered[1]!.phone}`, 'user', 'active', code, 'yes'],
        ['Wang, "Jr"', `'+86${registered[2]!.phone}`, 'user', 'active', code, 'yes'],
        ['导入老师', "'+8613700000001", 'user', 'active', '', 'no'],
        ['导入管理员', "'+8613700000002", 'admin', 'active', '', 'no'],
      ],
    );
    for (const r of records) assert.ok(!Number.isNaN(Date.parse(r.registered_at!)), r.registered_at);
    // The import finds its columns by their headings and reads the cells as they were before the guard.
    assert.deepEqual(parseRoster(csv.body.slice(1), 10).map((r) => [r.name, r.phone]), [...registered.map((p) => [p.name, `+86${p.phone}`]), ['导入老师', '+8613700000001'], ['导入管理员', '+8613700000002']]);

    const audit = (await t.app.inject({ method: 'GET', url: `/api/admin/audit?event=admin.roster_exported&target=organization:${orgId}`, headers })).json().events;
    assert.equal(audit.length, 1);
    assert.deepEqual(audit[0].detail, { export_id: id });
  });

  it('round trip: an exported member list imports into another Gatehouse as it is — the same names, phones and roles', async () => {
    const done = await finished((await startExport()).json().export.id);
    const csv = (await file(done.id)).body;
    const exported = (parse(csv.slice(1), { columns: true }) as Array<Record<string, string>>).map((r) => [r.name, r.phone, r.role]);
    assert.ok(exported.some(([name, phone]) => name!.startsWith("'=") && phone!.startsWith("'+")), 'the file holds guarded cells');

    const other = await createTestApp();
    const otherConsumer = startTaskConsumer(other);
    try {
      const otherAdmin = { cookie: (await adminSession(other)).cookie };
      const otherOrg = (await other.app.inject({ method: 'POST', url: '/api/admin/organizations', headers: otherAdmin, payload: { name: 'Imported school' } })).json().organization.id;
      const upload = await other.app.inject({ method: 'POST', url: `/api/admin/organizations/${otherOrg}/imports`, headers: { ...otherAdmin, 'content-type': 'text/csv' }, payload: csv });
      assert.equal(upload.statusCode, 202, upload.body);
      let state = '';
      for (let i = 0; i < 500 && state !== 'succeeded'; i++) {
        await sleep(10);
        state = (await other.app.inject({ method: 'GET', url: `/api/admin/imports/${upload.json().import.id}`, headers: otherAdmin })).json().import.task.state;
      }
      assert.equal(state, 'succeeded');
      const report = (await other.app.inject({ method: 'GET', url: `/api/admin/imports/${upload.json().import.id}/report`, headers: otherAdmin })).json().report;
      assert.deepEqual(report.rows.map((r: { result: string }) => r.result), exported.map(() => 'created'), JSON.stringify(report.rows));
      const members = await other.database.db.selectFrom('users').select(['name', 'phone', 'role']).where('organization_id', '=', otherOrg).orderBy('id').execute();
      const unguarded = (cell: string) => (/^'[=+\-@]/.test(cell) ? cell.slice(1) : cell);
      assert.deepEqual(
        members.map((m) => [m.name, m.phone, m.role]),
        exported.map(([name, phone, role]) => [unguarded(name!), unguarded(phone!), role]),
      );
    } finally {
      await otherConsumer.stop(1_000);
      await other.close();
    }
  });

  it('pages through a large organization: every member once, in order', async () => {
    const rows = Array.from({ length: 4500 }, (_, i) => `教师${i},136${String(i).padStart(8, '0')}`);
    const imported = await t.app.inject({ method: 'POST', url: `/api/admin/organizations/${orgId}/imports`, headers: { ...headers, 'content-type': 'text/csv' }, payload: ['姓名,手机号', ...rows].join('\n') });
    assert.equal(imported.statusCode, 202);
    for (let i = 0; i < 1000; i++) {
      const state = (await t.app.inject({ method: 'GET', url: `/api/admin/imports/${imported.json().import.id}`, headers })).json().import.task.state;
      if (state === 'succeeded') break;
      await sleep(20);
    }
    const done = await finished((await startExport()).json().export.id);
    const phones = (parse((await file(done.id)).body.slice(1), { columns: true }) as Array<{ phone: string }>).map((r) => r.phone).filter((p) => p.startsWith("'+86136"));
    assert.equal(done.rows, 5 + 4500);
    assert.deepEqual(phones, rows.map((_, i) => `'+86136${String(i).padStart(8, '0')}`));
  });

  it('a finished export can be downloaded for EXPORT_RETENTION_HOURS; then it is refused, and the sweep deletes it', async () => {
    const done = await finished((await startExport()).json().export.id);
    assert.equal(Date.parse(done.expires_at) - Date.parse(done.finished_at), 24 * 3_600_000);
    assert.equal((await file(done.id)).statusCode, 200);
    const later = (hours: number) => new ExportService(t.database, { orgs: {} as never, tasks: {} as never, audit: {} as never, retentionHours: 24, now: () => Date.now() + hours * 3_600_000 });
    await assert.rejects(later(24).file(OPERATOR, done.id), { code: 'EXPORT_EXPIRED' }, 'refused by the clock before any sweep');
    assert.equal(await later(23).sweepExpired(), 0);
    assert.ok((await later(24).sweepExpired()) >= 1);
    const row = await t.database.db.selectFrom('roster_exports').select(['content', 'rows']).where('id', '=', done.id).executeTakeFirstOrThrow();
    assert.equal(row.content, null, 'the member list is gone from the database');
    assert.equal(row.rows, done.rows, 'the record of the export stays');
    const gone = await file(done.id);
    assert.equal(gone.statusCode, 410);
    assert.equal(gone.json().error.code, 'EXPORT_EXPIRED');
  });

  it('refuses unknown exports and organizations, the signed-out and non-admins', async () => {
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/admin/exports/999999', headers })).json().error.code, 'EXPORT_NOT_FOUND');
    assert.equal((await file(999999)).json().error.code, 'EXPORT_NOT_FOUND');
    assert.equal((await startExport(999999)).json().error.code, 'ORGANIZATION_NOT_FOUND');
    assert.equal((await startExport(orgId, {})).statusCode, 401);
    const user = sessionCookie(await register(t));
    assert.equal((await startExport(orgId, { cookie: user })).statusCode, 403);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/admin/exports/1/file', headers: { cookie: user } })).statusCode, 403);
  });
});
