// A roster import's cost per chunk and per poll does not grow with the file: a chunk writes its own
// report rows and a few counters (not the whole report so far), and a poll reads a few columns (not
// the file, not the report). Measured in bytes through the database, not in time. And the file and
// per-row report go after IMPORT_RETENTION_DAYS; the import's record and counts stay.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Migrator, type Kysely, type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type RootOperationNode, type UnknownRow } from 'kysely';
import { AuditLog } from '../../src/audit/service.js';
import { loadConfig } from '../../src/config.js';
import { openSqlite, type Database } from '../../src/db/database.js';
import { MIGRATIONS } from '../../src/db/migrate.js';
import { rosterImportHandler } from '../../src/imports/handler.js';
import { ImportService } from '../../src/imports/service.js';
import { OrgService } from '../../src/orgs/service.js';
import { OPERATOR } from '../../src/principal.js';
import { createTaskRegistry } from '../../src/task-handlers.js';
import { TaskService } from '../../src/tasks/service.js';
import { createSqlQueue } from '../../src/tasks/sql-queue.js';
import { adminSession, createTestApp, TEST_SECRET, type TestApp } from '../helpers/app.js';

/** Counts the bytes of every statement's values (writes) and of every result (reads) that pass through. */
class Meter implements KyselyPlugin {
  written = 0;
  read = 0;
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (args.node.kind !== 'SelectQueryNode') this.written += JSON.stringify(args.node).length;
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    this.read += JSON.stringify(args.result.rows ?? []).length;
    return args.result;
  }
}

function metered(database: Database, meter: Meter): Database {
  return { ...database, db: database.db.withPlugin(meter), write: (fn) => database.write((trx) => fn(trx.withPlugin(meter))) };
}

/** n rows of the same shape, so that every chunk has the same amount of data. */
const roster = (n: number, prefix: string) => ['name,phone', ...Array.from({ length: n }, (_, i) => `Teacher ${String(i).padStart(5, '0')},${prefix}${String(i).padStart(5, '0')}`)].join('\n');

describe('roster import: work per chunk and per poll', () => {
  let t: TestApp;
  let cookie: string;
  before(async () => {
    t = await createTestApp({ IMPORT_MAX_ROWS: '10000' });
    cookie = (await adminSession(t)).cookie;
  });
  after(() => t.close());

  const services = (database: Database, now?: () => number) => {
    const registry = createTaskRegistry({ config: t.config, database: t.database, kv: t.kv, secret: TEST_SECRET, log: { info: () => undefined } });
    const tasks = new TaskService(createSqlQueue(t.database, { leaseMs: 5_000, pollMs: 10 }), registry);
    return new ImportService(database, { orgs: new OrgService(t.database), tasks, audit: new AuditLog(t.database), maxRows: 10_000, retentionDays: 30, ...(now ? { now } : {}) });
  };
  // No task consumer runs here: each test runs the import's task itself.
  const upload = async (csv: string) => {
    const res = await t.app.inject({ method: 'POST', url: '/api/admin/organizations/1/imports', headers: { cookie, 'content-type': 'text/csv' }, payload: csv });
    assert.equal(res.statusCode, 202, res.body);
    return res.json().import.id as number;
  };
  const runImport = async (database: Database, importId: number, onChunk: () => void = () => undefined) => {
    const handler = rosterImportHandler({ database, audit: new AuditLog(database), defaultRegion: 'CN', maxRows: 10_000 });
    return handler.run({ import_id: importId }, { taskId: `tsk_import_${importId}`, attempt: 1, signal: new AbortController().signal, progress: async () => onChunk() });
  };

  it('each chunk writes about as much as the first: the report is appended, not rewritten', async () => {
    const importId = await upload(roster(6000, '136100'));
    const meter = new Meter();
    const perChunk: number[] = [];
    let last = 0;
    await runImport(metered(t.database, meter), importId, () => {
      perChunk.push(meter.written - last);
      last = meter.written;
    });
    assert.equal(perChunk.length, 6);
    const [first] = perChunk;
    for (const [i, bytes] of perChunk.entries()) assert.ok(bytes < first! * 1.2, `chunk ${i + 1} wrote ${bytes} bytes, the first ${first}: ${perChunk.join(', ')}`);
    const report = await services(t.database).report(OPERATOR, importId);
    assert.equal(report.rows.length, 6000);
    assert.equal(report.counts.created, 6000);
  });

  it('a poll reads as much for a 6,000-row import as for a 10-row one, before and after it has run', async () => {
    const small = await upload(roster(10, '136200'));
    const large = await upload(roster(6000, '136300'));
    const bytesPerPoll = async (id: number) => {
      const meter = new Meter();
      const view = await services(metered(t.database, meter)).get(OPERATOR, id);
      return { bytes: meter.read, view };
    };
    const before = [await bytesPerPoll(small), await bytesPerPoll(large)];
    assert.equal(before[1]!.view.rows, 6000);
    await runImport(t.database, small);
    await runImport(t.database, large);
    const afterRun = [await bytesPerPoll(small), await bytesPerPoll(large)];
    assert.deepEqual(afterRun[1]!.view.counts, { created: 6000, exists: 0, invalid_phone: 0, invalid_name: 0, invalid_role: 0, duplicate_in_file: 0 });
    for (const [smallPoll, largePoll] of [before, afterRun]) {
      // The same columns; only the digits of the counts and the file name differ.
      assert.ok(largePoll!.bytes <= smallPoll!.bytes + 64, `a poll of the large import read ${largePoll!.bytes} bytes, of the small one ${smallPoll!.bytes}`);
    }
  });
});

describe('roster import retention (IMPORT_RETENTION_DAYS)', () => {
  let t: TestApp;
  let cookie: string;
  before(async () => {
    t = await createTestApp();
    cookie = (await adminSession(t)).cookie;
  });
  after(() => t.close());

  it('deletes the file and the per-row report after the retention; the record and counts stay, the report answers 410', async () => {
    assert.equal(loadConfig({}, {}).imports.retentionDays, 30);
    const res = await t.app.inject({ method: 'POST', url: '/api/admin/organizations/1/imports', headers: { cookie, 'content-type': 'text/csv' }, payload: roster(3, '136400') });
    const id = res.json().import.id as number;
    const uploadedAt = Date.parse(res.json().import.created_at);
    const handler = rosterImportHandler({ database: t.database, audit: new AuditLog(t.database), defaultRegion: 'CN', maxRows: 100 });
    const context = { taskId: 'tsk_retention', attempt: 1, signal: new AbortController().signal, progress: async () => undefined };
    await handler.run({ import_id: id }, context);
    const at = (days: number) => {
      const registry = createTaskRegistry({ config: t.config, database: t.database, kv: t.kv, secret: TEST_SECRET, log: { info: () => undefined } });
      const tasks = new TaskService(createSqlQueue(t.database, { leaseMs: 5_000, pollMs: 10 }), registry);
      return new ImportService(t.database, { orgs: new OrgService(t.database), tasks, audit: new AuditLog(t.database), maxRows: 100, retentionDays: 30, now: () => uploadedAt + days * 86_400_000 });
    };
    assert.equal(await at(29).sweepExpired(), 0);
    assert.equal((await t.app.inject({ method: 'GET', url: `/api/admin/imports/${id}/report`, headers: { cookie } })).json().report.rows.length, 3);
    assert.ok((await at(30).sweepExpired()) >= 1);
    const record = await t.database.db.selectFrom('roster_imports').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(record.content, '', 'the file is gone');
    assert.equal(Number((await t.database.db.selectFrom('roster_import_rows').select((eb) => eb.fn.countAll().as('n')).where('import_id', '=', id).executeTakeFirstOrThrow()).n), 0, 'the per-row report is gone');
    const view = (await t.app.inject({ method: 'GET', url: `/api/admin/imports/${id}`, headers: { cookie } })).json().import;
    assert.deepEqual([view.rows, view.counts.created, typeof view.file_deleted_at], [3, 3, 'string'], 'the record and its counts stay');
    for (const format of ['json', 'csv']) {
      const gone = await t.app.inject({ method: 'GET', url: `/api/admin/imports/${id}/report?format=${format}`, headers: { cookie } });
      assert.equal(gone.statusCode, 410);
      assert.equal(gone.json().error.code, 'IMPORT_EXPIRED');
    }
    await assert.rejects(handler.run({ import_id: id }, context), /deleted after IMPORT_RETENTION_DAYS/, 'a late retry of its task does not run on an empty file');
    assert.equal(await at(60).sweepExpired(), 0, 'swept once');
  });
});

describe('migration 013: reports written before it', () => {
  it('moves a JSON report into report rows and counts, so that old imports read as before', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-013-'));
    const database = openSqlite({ file: path.join(dir, 'db.sqlite') });
    try {
      const upTo = (last: string) => new Migrator({ db: database.db, provider: { getMigrations: async () => Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => name <= last)) } });
      assert.equal((await upTo('009_task_request_id').migrateToLatest()).error, undefined);
      const db = database.db as unknown as Kysely<any>;
      const now = Date.now();
      await db.insertInto('organizations').values({ name: 'Old school', created_at: now }).execute();
      const org = (await db.selectFrom('organizations').select('id').executeTakeFirstOrThrow()).id;
      const counts = { created: 1, exists: 0, invalid_phone: 1, invalid_name: 0, invalid_role: 0, duplicate_in_file: 0 };
      const rows = [
        { row: 2, name: 'A', phone: '+8613900000001', result: 'created' },
        { row: 3, name: 'B', phone: null, result: 'invalid_phone', input_phone: '12345' },
      ];
      const base = { organization_id: org, file_name: 'old.csv', encoding: 'utf-8', content: 'name,phone\nA,13900000001\nB,12345\n', content_sha256: 'x', created_by: 'cli', created_at: now, task_id: null };
      await db.insertInto('roster_imports').values([{ ...base, report: JSON.stringify({ total: 2, done: 2, counts, rows }) }, { ...base, report: null }]).execute();
      assert.equal((await upTo('999').migrateToLatest()).error, undefined);
      const [done, queued] = (await db.selectFrom('roster_imports').select(['id', 'rows', 'done', 'counts']).orderBy('id').execute()) as [any, any];
      assert.deepEqual([done.rows, done.done, JSON.parse(done.counts)], [2, 2, counts]);
      assert.deepEqual([queued.rows, queued.done, queued.counts], [null, 0, null], 'not started: its task counts the rows');
      const moved = await db.selectFrom('roster_import_rows').select(['row', 'name', 'phone', 'result', 'input_phone']).where('import_id', '=', done.id).orderBy('row').execute();
      assert.deepEqual(moved, [
        { row: 2, name: 'A', phone: '+8613900000001', result: 'created', input_phone: null },
        { row: 3, name: 'B', phone: null, result: 'invalid_phone', input_phone: '12345' },
      ]);
    } finally {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
