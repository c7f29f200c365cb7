// A PostgreSQL read replica (DATABASE_REPLICA_URL) with a real streaming replica of the test's own:
// the admin lists are read from it (seen by pausing its replay: they stop showing new rows), while
// everything that must see the latest write (a new account's session, its login) reads the primary;
// a client that has just written reads the primary for the replica's allowed lag; a replica that falls
// further behind, or goes down, is left out until it recovers, and nobody gets an error meanwhile.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, it } from 'node:test';
import { loginThrough, metricValue, registerThrough, request, runCli, scrapeMetrics, startServer, uniquePhone, type HttpResult, type ServerProcess } from './helpers/cluster.js';
import { startOwnPostgres, startReplicaOf, type OwnPostgres } from './helpers/own-postgres.js';
import { parseLsn } from '../src/db/replica.js';
import { unmet } from './helpers/requirements.js';

const skip = await unmet('postgres-binaries');

let primary: OwnPostgres;
let replica: OwnPostgres;
/** Allows a lag of an hour: while its replay is paused, the replica stays in use. */
let patient: ServerProcess;
/** Allows 1 s: a paused replica is soon too far behind for it. */
let strict: ServerProcess;
let auth: Record<string, string>;


function organizationNames(res: HttpResult): string[] {
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return (res.body.organizations as Array<{ name: string }>).map((o) => o.name);
}

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(200);
  }
}

const replicaState = async (server: ServerProcess) => (await request(server.port, 'GET', '/readyz')).body.checks.database_replica as string;

before(async () => {
  if (skip) return;
  primary = await startOwnPostgres();
  replica = await startReplicaOf(primary);
  const env = { DATABASE_URL: primary.url, DATABASE_REPLICA_URL: replica.url };
  patient = await startServer({ workers: 2, env: { ...env, DATABASE_REPLICA_MAX_LAG_SECONDS: '3600' } });
  strict = await startServer({ workers: 1, env: { ...env, DATABASE_REPLICA_MAX_LAG_SECONDS: '1' } });
  const created = await runCli(['apikey', 'create', '--name', 'replica test', '--scopes', 'admin', '--json'], { DATABASE_URL: primary.url, DATA_DIR: patient.dataDir });
  assert.equal(created.code, 0, created.stderr);
  auth = { authorization: `Bearer ${JSON.parse(created.stdout).key}` };
  await until('both servers use the replica', async () => (await replicaState(patient)) === 'ok' && (await replicaState(strict)) === 'ok');
});
after(async () => {
  if (skip) return;
  await Promise.all([patient?.stop(), strict?.stop()]);
  replica?.destroy();
  primary?.destroy();
});

it('reads WAL positions as PostgreSQL prints them', () => {
  assert.equal(parseLsn('0/3000060'), 0x3000060n);
  assert.equal(parseLsn('16/B374D848'), 0x16b374d848n);
  assert.ok(parseLsn('1/0') > parseLsn('0/FFFFFFFF'));
});

it('admin lists come from the replica; a session, a login and a writer\'s next read come from the primary', { skip }, async () => {
  await replica.query('select pg_wal_replay_pause()');
  const created = await request(patient.port, 'POST', '/api/admin/organizations', { headers: auth, body: { name: 'Written while replay is paused' } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const wrote = created.headers['set-cookie']?.find((c) => c.startsWith('gatehouse_wrote='));
  assert.ok(wrote?.includes('Max-Age=3600'), 'a change answers with the read-your-writes cookie, for the allowed lag');

  const lagging = organizationNames(await request(patient.port, 'GET', '/api/admin/organizations', { headers: auth }));
  assert.ok(lagging.length >= 1, 'the replica has the data replicated before the pause');
  assert.ok(!lagging.includes('Written while replay is paused'), 'read from the replica, which has not replayed the change');
  const withCookie = organizationNames(await request(patient.port, 'GET', '/api/admin/organizations', { headers: auth, cookie: wrote!.split(';')[0]! }));
  assert.ok(withCookie.includes('Written while replay is paused'), 'the client that wrote reads its write');
  const noCache = organizationNames(await request(patient.port, 'GET', '/api/admin/organizations', { headers: { ...auth, 'cache-control': 'no-cache' } }));
  assert.ok(noCache.includes('Written while replay is paused'), 'Cache-Control: no-cache asks for the latest');

  // A new account works at once though the replica has not seen it.
  const phone = uniquePhone();
  assert.equal((await registerThrough(patient.port, patient.invitationCode, phone)).status, 201);
  const login = await loginThrough(patient.port, phone, 'a good long passphrase');
  assert.equal(login.status, 200, JSON.stringify(login.body));
  const session = login.headers['set-cookie']!.find((c) => c.startsWith('gatehouse_session='))!.split(';')[0]!;
  assert.equal((await request(patient.port, 'GET', '/api/auth/me', { cookie: session })).status, 200);
  const search = await request(patient.port, 'GET', `/api/admin/users?q=${phone.slice(-8)}`, { headers: auth });
  assert.equal(search.body.users.length, 0, 'the user search is read from the replica too');

  const metrics = await scrapeMetrics(patient.port);
  assert.ok(metricValue(metrics, 'gatehouse_db_lag_tolerant_reads_total', { target: 'replica' }) >= 2);
  assert.equal(metricValue(metrics, 'gatehouse_db_replica_up'), 1);

  await replica.query('select pg_wal_replay_resume()');
  await until('the replica shows the change', async () =>
    organizationNames(await request(patient.port, 'GET', '/api/admin/organizations', { headers: auth })).includes('Written while replay is paused'),
  );
  assert.equal((await request(patient.port, 'GET', `/api/admin/users?q=${phone.slice(-8)}`, { headers: auth })).body.users.length, 1);
});

it('a replica further behind than the allowed lag is left out until it catches up; ready all along', { skip }, async () => {
  await replica.query('select pg_wal_replay_pause()');
  assert.equal((await request(strict.port, 'POST', '/api/admin/organizations', { headers: auth, body: { name: 'Behind the strict limit' } })).status, 201);
  await until('the strict server sees the replica lagging', async () => (await replicaState(strict)) === 'lagging');
  const ready = await request(strict.port, 'GET', '/readyz');
  assert.equal(ready.status, 200, 'a lagging replica does not make the server unready');
  assert.ok(organizationNames(await request(strict.port, 'GET', '/api/admin/organizations', { headers: auth })).includes('Behind the strict limit'), 'read from the primary');
  assert.ok(!organizationNames(await request(patient.port, 'GET', '/api/admin/organizations', { headers: auth })).includes('Behind the strict limit'), 'the patient server still reads the replica');

  await replica.query('select pg_wal_replay_resume()');
  await until('the strict server uses the replica again', async () => (await replicaState(strict)) === 'ok');
});

it('a replica that goes down: reads go to the primary at once, no errors, back when it returns', { skip }, async () => {
  replica.crash();
  for (let i = 0; i < 6; i++) {
    const res = await request(patient.port, 'GET', '/api/admin/organizations', { headers: auth });
    assert.equal(res.status, 200, `read ${i} answered from the primary: ${JSON.stringify(res.body)}`);
  }
  await until('the servers see the replica down', async () => (await replicaState(patient)) === 'down');
  const ready = await request(patient.port, 'GET', '/readyz');
  assert.equal(ready.status, 200);
  assert.equal(metricValue(await scrapeMetrics(patient.port), 'gatehouse_db_replica_up'), 0);
  assert.equal((await request(patient.port, 'POST', '/api/admin/organizations', { headers: auth, body: { name: 'While the replica is down' } })).status, 201);
  assert.ok(organizationNames(await request(patient.port, 'GET', '/api/admin/organizations', { headers: auth })).includes('While the replica is down'));

  replica.start();
  await until('the replica is in use again', async () => (await replicaState(patient)) === 'ok', 30_000);
  const before = metricValue(await scrapeMetrics(patient.port), 'gatehouse_db_lag_tolerant_reads_total', { target: 'replica' });
  assert.equal((await request(patient.port, 'GET', '/api/admin/audit?limit=5', { headers: auth })).status, 200);
  await until('a read is served by the replica again', async () =>
    metricValue(await scrapeMetrics(patient.port), 'gatehouse_db_lag_tolerant_reads_total', { target: 'replica' }) > before,
  );
});
