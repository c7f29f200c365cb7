// A managed Redis fails over by moving its address (a DNS name) to the promoted replica and demoting
// the old primary, often without closing the connections to it: they stay open and every write on them
// answers READONLY. The store must reconnect (reaching the new primary) and carry on, not answer 503
// for as long as the stale connection lives. Simulated here with two Redis servers of the test's own
// and a TCP proxy standing for the address that moves.
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { after, before, it } from 'node:test';
import { createRedisStore } from '../../src/kv/redis.js';
import type { KeyValueStore } from '../../src/kv/store.js';
import { freePort } from '../helpers/cluster.js';
import { startOwnRedis } from '../helpers/redis.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { unmet } from '../helpers/requirements.js';

const skip = await unmet('redis-binaries');

const PREFIX = 'readonly-failover:';
const servers: ChildProcess[] = [];
let oldPrimary: number;
let newPrimary: number;
let proxy: TcpProxy;
let store: KeyValueStore;

const redisCli = (port: number, ...args: string[]) => execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).trim();

async function startRedis(): Promise<number> {
  const port = await freePort();
  servers.push(await startOwnRedis(port));
  return port;
}

before(async () => {
  if (skip) return;
  [oldPrimary, newPrimary] = [await startRedis(), await startRedis()];
  proxy = await startTcpProxy(oldPrimary);
  store = createRedisStore({ target: { url: `redis://127.0.0.1:${proxy.port}` }, keyPrefix: PREFIX, commandTimeoutMs: 3_000 });
});

after(async () => {
  if (skip) return;
  await store?.close();
  await proxy?.close();
  for (const server of servers) server.kill('SIGKILL');
});

it('writes on a connection to a primary that was demoted reconnect to the new primary, instead of failing with READONLY', { skip }, async () => {
  await store.put('before', 'yes', 60_000);
  assert.equal(redisCli(oldPrimary, 'get', `${PREFIX}before`), 'yes');

  // The failover: the address now leads to the other server, and the old primary becomes its replica.
  proxy.pointTo(newPrimary);
  redisCli(oldPrimary, 'replicaof', '127.0.0.1', String(newPrimary));
  assert.match(redisCli(oldPrimary, 'role'), /slave/);
  assert.ok(proxy.openConnections() > 0, 'the connection to the old primary is still open');

  await store.put('after', 'yes', 60_000);
  assert.equal(redisCli(newPrimary, 'get', `${PREFIX}after`), 'yes');
  assert.equal((await store.increment('counter', 60_000)).value, 1);
  assert.equal(await store.takeOnce('after'), 'yes');
  assert.equal(redisCli(newPrimary, 'get', `${PREFIX}after`), '');
});

it('an address that leads to a replica for good is not ready, and is again once it leads to a primary', { skip }, async () => {
  // After the test above the old primary is the new one's replica; the address now leads there.
  proxy.pointTo(oldPrimary);
  assert.match(redisCli(oldPrimary, 'role'), /slave/);
  const misdirected = createRedisStore({ target: { url: `redis://127.0.0.1:${proxy.port}` }, keyPrefix: PREFIX, commandTimeoutMs: 1_000 });
  try {
    assert.equal(await misdirected.get('before'), 'yes', 'reads still work: the replica answers');
    await assert.rejects(misdirected.ping(), { code: 'STORE_UNAVAILABLE' });
    proxy.pointTo(newPrimary);
    await misdirected.ping();
    assert.equal(redisCli(newPrimary, 'exists', `${PREFIX}readyz`), '1', 'the readiness check wrote to the primary');
  } finally {
    await misdirected.close();
  }
});
