// Group commit on a real SQLite file: writes that meet share one transaction, and a failing write
// rolls back only itself.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openSqlite, type Database, type Db } from '../../src/db/database.js';
import { GroupCommitter } from '../../src/db/group-commit.js';

describe('group commit', () => {
  let dir: string;
  let database: Database;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-group-commit-'));
    database = openSqlite({ file: path.join(dir, 'db.sqlite') });
    await sql`create table notes (id integer primary key, text text not null unique)`.execute(database.db);
  });
  after(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A committer on the database whose transactions are counted. */
  function counted() {
    let transactions = 0;
    const committer = new GroupCommitter((fn) => {
      transactions++;
      return database.write(fn);
    });
    const insert = (text: string) => committer.submit((trx: Db) => sql`insert into notes (text) values (${text})`.execute(trx).then(() => text));
    return { insert, transactions: () => transactions };
  }

  const texts = async () => (await sql<{ text: string }>`select text from notes order by id`.execute(database.db)).rows.map((r) => r.text);

  test('writes submitted in one turn of the event loop share one transaction; a failing one rolls back alone', async () => {
    const c = counted();
    const results = await Promise.allSettled(['a1', 'a2', 'a3', 'a2', 'a4'].map(c.insert));
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
    );
    assert.match(String((results[3] as PromiseRejectedResult).reason), /UNIQUE/);
    assert.equal(c.transactions(), 1, 'all five in one commit');
    assert.deepEqual(await texts(), ['a1', 'a2', 'a3', 'a4']);
  });

  test('writes that arrive while a batch commits go in the next one', async () => {
    const c = counted();
    const first = c.insert('b1');
    // Submitted in a later turn of the event loop, after the first batch's flush began.
    const during = new Promise<string>((resolve, reject) => setImmediate(() => c.insert('b2').then(resolve, reject)));
    assert.deepEqual(await Promise.all([first, during]), ['b1', 'b2']);
    assert.equal(c.transactions(), 2);
    assert.deepEqual((await texts()).slice(-2), ['b1', 'b2']);
  });
});
