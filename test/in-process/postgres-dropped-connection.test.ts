// A PostgreSQL server that drops a connection in use (a crash, a restart, a failover, an operator's
// pg_terminate_backend) fails the query on it with 503, and nothing more: the process lives on and the
// next query reconnects. Without a listener of its own, the dropped client's 'error' event would end
// the process (seen when a read replica went down under load: both HTTP workers died).
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { openPostgres } from '../../src/db/postgres.js';
import type { Database } from '../../src/db/database.js';
import { AppError } from '../../src/errors.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { unmet } from '../helpers/requirements.js';

const skip = await unmet('postgres');

let testDatabase: TestDatabase;
let database: Database;

before(async () => {
  if (skip) return;
  testDatabase = await createTestDatabase('dropped');
  database = openPostgres({ url: testDatabase.url, poolSize: 2 });
});
after(async () => {
  if (skip) return;
  await database?.close();
  await testDatabase?.drop();
});

async function terminateWhenRunning(query: string): Promise<void> {
  const admin = new pg.Client({ connectionString: testDatabase.url });
  await admin.connect();
  try {
    for (let tries = 0; tries < 100; tries++) {
      const { rows } = await admin.query<{ terminated: boolean }>(
        'select pg_terminate_backend(pid) as terminated from pg_stat_activity where query = $1 and pid <> pg_backend_pid()',
        [query],
      );
      if (rows.some((r) => r.terminated)) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('the query never showed up in pg_stat_activity');
  } finally {
    await admin.end();
  }
}

it('a connection dropped mid-transaction: that request gets STORE_UNAVAILABLE, the process lives on, the next query works', { skip }, async () => {
  const sleeping = 'select pg_sleep(30)';
  const inFlight = database.write((trx) => sql.raw(sleeping).execute(trx));
  // Marked handled from the start: it may fail before the terminating query has even returned.
  inFlight.catch(() => undefined);
  await terminateWhenRunning(sleeping);
  await assert.rejects(inFlight, (error: unknown) => error instanceof AppError && error.code === 'STORE_UNAVAILABLE');
  // Give the dropped client's late 'error'/'end' events their turn: an unheard one would fail this file.
  await new Promise((resolve) => setTimeout(resolve, 100));
  await database.ping();
  const { rows } = await sql<{ n: number }>`select 1 as n`.execute(database.db);
  assert.equal(rows[0]!.n, 1);
});

it('a connection dropped while checked out between statements: the process lives on', { skip }, async () => {
  const marker = 'select 2 as between_statements';
  const transaction = database.write(async (trx) => {
    await sql.raw(marker).execute(trx);
    await terminateWhenRunning(marker);
    await new Promise((resolve) => setTimeout(resolve, 100));
  });
  transaction.catch(() => undefined);
  // The transaction's connection is gone: its commit fails like any statement on a dropped connection.
  await assert.rejects(transaction, (error: unknown) => error instanceof AppError && error.code === 'STORE_UNAVAILABLE');
  await database.ping();
});
