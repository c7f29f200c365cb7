// Roster import: file decoding (UTF-8 with/without BOM, GB18030), the per-row report, re-running a
// file, resuming after a crash with every row reported exactly once, and an imported teacher's first
// sign-in with an SMS code followed by setting a password.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { AuditLog } from '../../src/audit/service.js';
import { rosterImportHandler } from '../../src/imports/handler.js';
import type { ImportReport } from '../../src/imports/report.js';
import { decodeRosterBytes, parseRoster } from '../../src/imports/roster-file.js';
import type { TaskConsumer } from '../../src/tasks/types.js';
import { adminSession, createTestApp, newCaptcha, sessionCookie, smsCode, startTaskConsumer, type TestApp } from '../helpers/app.js';

// GB18030 bytes, written out (Node can decode GB18030 but not encode it): 姓名 手机 张三 李四 王五.
const GB = { 姓名: [0xd0, 0xd5, 0xc3, 0xfb], 手机: [0xca, 0xd6, 0xbb, 0xfa], 张三: [0xd5, 0xc5, 0xc8, 0xfd], 李四: [0xc0, 0xee, 0xcb, 0xc4], 王五: [0xcd, 0xf5, 0xce, 0xe5] };
function gbFile(lines: Array<Array<string | number[]>>): Buffer {
  const parts: number[] = [];
  for (const line of lines) {
    line.forEach((cell, i) => {
      if (i > 0) parts.push(0x2c);
      parts.push(...(typeof cell === 'string' ? Buffer.from(cell, 'ascii') : cell));
    });
    parts.push(0x0d, 0x0a);
  }
  return Buffer.from(parts);
}

describe('roster files', () => {
  it('decodes UTF-8 with and without a BOM, UTF-16 and GB18030', () => {
    const utf8 = Buffer.from('姓名,手机\n张三,13800138000\n');
    assert.deepEqual(decodeRosterBytes(utf8), { text: '姓名,手机\n张三,13800138000\n', encoding: 'utf-8' });
    assert.equal(decodeRosterBytes(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8])).text, '姓名,手机\n张三,13800138000\n');
    assert.equal(decodeRosterBytes(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('张三,1', 'utf16le')])).text, '张三,1');
    const gb = decodeRosterBytes(gbFile([[GB.姓名, GB.手机], [GB.张三, '13800138000']]));
    assert.equal(gb.encoding, 'gb18030');
    assert.equal(gb.text, '姓名,手机\r\n张三,13800138000\r\n');
  });

  it('finds the columns by their headings (English or Chinese), or takes name, phone, role without a header', () => {
    assert.deepEqual(parseRoster('手机号,姓名\n13800138000,张三\n', 10), [{ row: 2, name: '张三', phone: '13800138000', role: '' }]);
    assert.deepEqual(parseRoster('张三,13800138000,admin\n', 10), [{ row: 1, name: '张三', phone: '13800138000', role: 'admin' }]);
    assert.throws(() => parseRoster('name,email\nx,y\n', 10), /name and a phone/);
    assert.throws(() => parseRoster('a,1\nb,2\nc,3\n', 2), /at most 2/);
    assert.throws(() => parseRoster('\n\n', 10), /no rows/);
  });
});

describe('roster import through the admin API', () => {
  let t: TestApp;
  let admin: { cookie: string };
  let consumer: TaskConsumer;
  let orgId: number;

  before(async () => {
    t = await createTestApp({ IMPORT_MAX_ROWS: '5000' });
    admin = await adminSession(t);
    orgId = (await t.database.db.selectFrom('organizations').select('id').executeTakeFirstOrThrow()).id;
    consumer = startTaskConsumer(t);
  });
  after(async () => {
    await consumer.stop(1_000);
    await t.close();
  });

  const upload = (body: Buffer | string, fileName = 'roster.csv') =>
    t.app.inject({ method: 'POST', url: `/api/admin/organizations/${orgId}/imports?file_name=${encodeURIComponent(fileName)}`, headers: { cookie: admin.cookie, 'content-type': 'text/csv' }, payload: body });

  async function finished(id: number) {
    for (let i = 0; i < 500; i++) {
      const res = await t.app.inject({ method: 'GET', url: `/api/admin/imports/${id}`, headers: { cookie: admin.cookie } });
      if (res.json().import.task.state === 'succeeded') return res.json().import;
      await sleep(10);
    }
    throw new Error('import did not finish');
  }

  const report = async (id: number) => (await t.app.inject({ method: 'GET', url: `/api/admin/imports/${id}/report`, headers: { cookie: admin.cookie } })).json().report as ImportReport;

  it('imports good rows and reports bad and duplicate ones with their row numbers; a second run creates nothing', async () => {
    const file = gbFile([
      [GB.姓名, GB.手机],
      [GB.张三, '13900000001'],
      [GB.李四, '139 0000 0002'],
      [GB.王五, '12345'],
      ['', '13900000004'],
      [GB.张三, '13900000001'],
      ['Admin Wang', '+86 139 0000 0005'],
    ]);
    const res = await upload(file, '名单.csv');
    assert.equal(res.statusCode, 202, res.body);
    assert.equal(res.json().import.encoding, 'gb18030');
    assert.equal(res.json().import.rows, 6);
    const done = await finished(res.json().import.id);
    assert.deepEqual(done.task.progress, { done: 6, total: 6, counts: done.counts }, 'progress reported as the task ran');
    assert.deepEqual(done.counts, { created: 3, exists: 0, invalid_phone: 1, invalid_name: 1, invalid_role: 0, duplicate_in_file: 1 });
    const rows = (await report(done.id)).rows.map((r) => [r.row, r.result]);
    assert.deepEqual(rows, [[2, 'created'], [3, 'created'], [4, 'invalid_phone'], [5, 'invalid_name'], [6, 'duplicate_in_file'], [7, 'created']]);
    const zhang = await t.database.db.selectFrom('users').selectAll().where('phone', '=', '+8613900000001').executeTakeFirstOrThrow();
    assert.equal(zhang.name, '张三');
    assert.equal(zhang.password_hash, null);
    assert.equal(zhang.organization_id, orgId);

    const usersBefore = Number((await t.database.db.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const again = await finished((await upload(file)).json().import.id);
    assert.deepEqual(again.counts, { created: 0, exists: 3, invalid_phone: 1, invalid_name: 1, invalid_role: 0, duplicate_in_file: 1 });
    const usersAfter = Number((await t.database.db.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    assert.equal(usersAfter, usersBefore);

    const csv = await t.app.inject({ method: 'GET', url: `/api/admin/imports/${done.id}/report?format=csv`, headers: { cookie: admin.cookie } });
    assert.match(csv.headers['content-type'] as string, /text\/csv/);
    // Cells that start with + - = @ get a leading apostrophe: a spreadsheet keeps them as text (no formula, no 8.6E+12).
    assert.ok(csv.body.startsWith("\uFEFFrow,name,phone,result\r\n2,张三,'+8613900000001,created\r\n"), csv.body.slice(0, 80));
  });

  it('refuses files that are not rosters with 400 INVALID_ROSTER, and unknown organizations with 404', async () => {
    for (const body of ['name,email\nx,y\n', Buffer.alloc(0), 'a,1\n'.repeat(5001)]) {
      const res = await upload(body);
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().error.code, 'INVALID_ROSTER');
    }
    const missing = await t.app.inject({ method: 'POST', url: '/api/admin/organizations/999/imports', headers: { cookie: admin.cookie, 'content-type': 'text/csv' }, payload: 'a,13900000009\n' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 'ORGANIZATION_NOT_FOUND');
    const json = await t.app.inject({ method: 'POST', url: `/api/auth/login`, headers: { 'content-type': 'text/csv' }, payload: 'x' });
    assert.equal(json.statusCode, 415, 'only the upload route takes CSV');
  });

  it('an imported teacher signs in with an SMS code and sets a password', async () => {
    const phone = '13900000002';
    const captcha_id = await newCaptcha(t.app, 'login');
    const noPassword = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { phone, password: 'anything at all', captcha_id, captcha: 'TEST' } });
    assert.equal(noPassword.statusCode, 401);
    const code = await smsCode(t, phone, 'login');
    const signedIn = await t.app.inject({ method: 'POST', url: '/api/auth/login/sms', payload: { phone, code } });
    assert.equal(signedIn.statusCode, 200);
    const cookie = sessionCookie(signedIn);
    const set = await t.app.inject({ method: 'POST', url: '/api/auth/password', headers: { cookie }, payload: { new_password: 'my own passphrase' } });
    assert.equal(set.statusCode, 204, set.body);
    const change = await t.app.inject({ method: 'POST', url: '/api/auth/password', headers: { cookie }, payload: { new_password: 'another passphrase' } });
    assert.equal(change.statusCode, 401, 'once set, changing it needs the current password');
    const captcha2 = await newCaptcha(t.app, 'login');
    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { phone, password: 'my own passphrase', captcha_id: captcha2, captcha: 'TEST' } });
    assert.equal(login.statusCode, 200);
  });

  it('a crash after a committed chunk resumes there: every row reported exactly once', async () => {
    const lines = ['name,phone', ...Array.from({ length: 2500 }, (_, i) => `Teacher ${i},137${String(i).padStart(8, '0')}`)];
    const created = await t.app.inject({ method: 'POST', url: `/api/admin/organizations/${orgId}/imports`, headers: { cookie: admin.cookie, 'content-type': 'text/csv' }, payload: lines.join('\n') });
    const importId = created.json().import.id as number;
    await finished(importId); // the consumer runs it normally first; now replay the task from a crash point
    await t.database.db.deleteFrom('users').where('phone', 'like', '+86137%').execute();
    await t.database.db.deleteFrom('roster_import_rows').where('import_id', '=', importId).execute();
    await t.database.db.updateTable('roster_imports').set({ done: 0, counts: null }).where('id', '=', importId).execute();

    const handler = rosterImportHandler({ database: t.database, audit: new AuditLog(t.database), defaultRegion: 'CN', maxRows: 5000 });
    let progressCalls = 0;
    const crashing = { taskId: 'tsk_replay', attempt: 1, signal: new AbortController().signal, progress: async () => { if (++progressCalls === 1) throw new Error('worker died'); } };
    await assert.rejects(handler.run({ import_id: importId }, crashing), /worker died/);
    const partial = await report(importId);
    assert.deepEqual([partial.done, partial.rows.length], [1000, 1000], 'the first chunk was committed with its report');
    const result = (await handler.run({ import_id: importId }, { ...crashing, attempt: 2, progress: async () => undefined })) as { counts: ImportReport['counts'] };
    assert.equal(result.counts.created, 2500);
    const full = await report(importId);
    assert.equal(full.rows.length, 2500);
    assert.deepEqual(full.rows.map((r) => r.row), Array.from({ length: 2500 }, (_, i) => i + 2));
    const users = await t.database.db.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).where('phone', 'like', '+86137%').executeTakeFirstOrThrow();
    assert.equal(Number(users.n), 2500);
  });
});
