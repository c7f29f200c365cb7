// PostgreSQL failovers as a pool sees them, with a primary and a streaming standby of the test's own
// and a TCP proxy standing for DATABASE_URL's address (a DNS name that a failover moves):
// - the address leads to a standby (resolvers not caught up yet), or the database is read-only for
//   maintenance: writes get 503 STORE_UNAVAILABLE, never a 500, and no connection to the standby
//   stays in the pool, so writes work as soon as the address leads to the primary;
// - the primary freezes (connections open and silent) and its address moves to the promoted standby:
//   a connection whose query timed out is not reused, so after at most one 503 per pooled connection,
//   writes reach the new primary.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import { openPostgres } from '../../src/db/postgres.js';
import type { Database } from '../../src/db/database.js';
import { AppError } from '../../src/errors.js';
import { startOwnPostgres, startReplicaOf, type OwnPostgres } from '../helpers/own-postgres.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { unmet } from '../helpers/requirements.js';

const skip = await unmet('postgres-binaries');

let primary: OwnPostgres;
let standby: OwnPostgres;
let address: TcpProxy;
let database: Database;

const unavailable = (error: unknown) => error instanceof AppError && error.code === 'STORE_UNAVAILABLE';


const writeRow = (label: string) => database.write((trx) => sql`insert into standby_test (label) values (${label})`.execute(trx));

before(async () => {
  if (skip) return;
  primary = await startOwnPostgres();
  await primary.query('create table standby_test (label text not null)');
  standby = await startReplicaOf(primary);
  address = await startTcpProxy(standby.port);
  database = openPostgres({ url: primary.url.replace(`:${primary.port}/`, `:${address.port}/`), poolSize: 4 });
});
after(async () => {
  if (skip) return;
  await database?.close();
  await address?.close();
  standby?.destroy();
  primary?.destroy();
});

it('an address that leads to a standby: writes and the readiness check get 503, and the moment it leads to the primary, writes work', { skip }, async () => {
  for (let i = 0; i < 3; i++) await assert.rejects(writeRow(`refused ${i}`), unavailable);
  await assert.rejects(database.ping(), unavailable, 'not ready: reads alone would answer, writes would not');

  address.pointTo(primary.port);
  await writeRow('accepted');
  await database.ping();
  const { rows } = await sql<{ label: string }>`select label from standby_test`.execute(database.db);
  assert.deepEqual(rows.map((r) => r.label), ['accepted']);
});

it('a primary set read-only for maintenance: writes get 503 STORE_UNAVAILABLE, not a 500', { skip }, async () => {
  await primary.query('alter system set default_transaction_read_only = on');
  await primary.query('select pg_reload_conf()');
  try {
    // Each server process applies the reloaded setting on its own, a moment later.
    let refused: unknown;
    for (let i = 0; i < 100 && refused === undefined; i++) {
      await writeRow(`before the setting applies ${i}`).then(() => sleep(20), (error: unknown) => (refused = error));
    }
    assert.ok(unavailable(refused), String(refused));
  } finally {
    await primary.query('alter system reset default_transaction_read_only');
    await primary.query('select pg_reload_conf()');
  }
  // The reset, too, reaches each server process a moment later: writes are accepted again once it has.
  let accepted = false;
  let last: unknown;
  for (let i = 0; i < 100 && !accepted; i++) {
    await writeRow(`after maintenance ${i}`).then(
      () => (accepted = true),
      async (error: unknown) => {
        last = error;
        assert.ok(unavailable(error), String(error));
        await sleep(20);
      },
    );
  }
  assert.ok(accepted, `writes were still refused after the maintenance ended: ${String(last)}`);
});

it('a primary that freezes while its address moves to the promoted standby: at most one 503 per pooled connection, then writes reach the new primary', { skip }, async () => {
  const poolSize = 2;
  const quick = openPostgres({ url: primary.url.replace(`:${primary.port}/`, `:${address.port}/`), poolSize, timeoutMs: 1_000 });
  const write = (label: string) => quick.write((trx) => sql`insert into standby_test (label) values (${label})`.execute(trx));
  try {
    // Both pooled connections open, to the primary.
    await Promise.all(Array.from({ length: poolSize }, (_, i) => write(`before the freeze ${i}`)));
    primary.freeze();
    await standby.query('select pg_promote()');
    address.pointTo(standby.port);

    let refused = 0;
    let written = false;
    for (let i = 0; i < 3 * poolSize && !written; i++) {
      try {
        await write(`after the failover ${i}`);
        written = true;
      } catch (error) {
        assert.ok(unavailable(error), String(error));
        refused++;
      }
    }
    assert.ok(written, 'a write reached the promoted standby');
    assert.ok(refused <= poolSize, `${refused} writes refused: a stuck connection was used again`);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from standby_test where label like 'after the failover%'`.execute(quick.db);
    assert.equal(rows[0]!.n, 1);
  } finally {
    primary.thaw();
    await quick.close();
  }
});
