// Redis behind Sentinel (REDIS_SENTINELS): a primary, two replicas and a sentinel of the test's own.
// The service finds the primary through the sentinel; when the primary fails and the sentinel promotes
// a replica, the service follows it without a restart: a bounded outage (503, not ready), then
// captchas, logins and registrations work again on the new primary. Twice: a primary that crashes
// (its connections close), then one that freezes (its connections stay open and silent, like a
// machine that lost power or its network).
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, it } from 'node:test';
import { freePort, loginThrough, registerThrough, request, startServer, type ServerProcess } from './helpers/cluster.js';
import { unmet } from './helpers/requirements.js';

const skip = await unmet('redis-binaries');

const PASSWORD = 'a good long passphrase';
const NAME = 'gatehouse-test';

let dir: string;
const processes: ChildProcess[] = [];
const nodes = new Map<number, ChildProcess>();
const failed = new Set<number>();
let sentinelPort: number;
let server: ServerProcess;

function redisCli(port: number, ...args: string[]): string {
  return execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).trim();
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await condition()) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(200);
  }
}

function redis(args: string[]): ChildProcess {
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  processes.push(child);
  return child;
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-sentinel-'));
  const [primaryPort, ...replicaPorts] = [await freePort(), await freePort(), await freePort()];
  sentinelPort = await freePort();
  const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  nodes.set(primaryPort!, redis(['--port', String(primaryPort), ...common]));
  await until('the primary answers', () => redisCli(primaryPort!, 'ping') === 'PONG');
  for (const port of replicaPorts) {
    nodes.set(port, redis(['--port', String(port), '--replicaof', '127.0.0.1', String(primaryPort), ...common]));
    await until('the replica is in sync', () => redisCli(port, 'info', 'replication').includes('master_link_status:up'));
  }
  const conf = path.join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${NAME} 127.0.0.1 ${primaryPort} 1`,
      `sentinel down-after-milliseconds ${NAME} 1000`,
      `sentinel failover-timeout ${NAME} 5000`,
      '',
    ].join('\n'),
  );
  redis([conf, '--sentinel']);
  await until('the sentinel knows the replicas', () => replicaPorts.every((port) => redisCli(sentinelPort, 'sentinel', 'replicas', NAME).includes(String(port))));
  server = await startServer({ workers: 2, env: { REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`, REDIS_SENTINEL_NAME: NAME, REDIS_KEY_PREFIX: 'gh:' } });
});

after(async () => {
  if (skip) return;
  await server?.stop();
  for (const child of processes) {
    if (child.exitCode !== null) continue;
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
});

/** The port of the node the sentinel names as the primary now. */
function currentPrimary(): number {
  return Number(redisCli(sentinelPort, 'sentinel', 'get-master-addr-by-name', NAME).split('\n')[1]);
}

/** Fails the primary, waits for the sentinel to promote another node, and for both workers to be ready on it. */
async function failOver(how: 'SIGKILL' | 'SIGSTOP'): Promise<number> {
  const old = currentPrimary();
  nodes.get(old)!.kill(how);
  failed.add(old);
  let promoted = old;
  await until('the sentinel has promoted a replica', () => (promoted = currentPrimary()) !== old && redisCli(promoted, 'role').startsWith('master'));
  // Each worker process finds the new primary by itself: ready again once both say so.
  const readyWorkers = new Set<string>();
  await until('both workers are ready again', async () => {
    const ready = await request(server.port, 'GET', '/readyz');
    if (ready.status === 200) readyWorkers.add(ready.worker!);
    return readyWorkers.size === 2;
  });
  return promoted;
}

/** Signs in and registers through the service, and checks that both workers' connections answer. */
async function worksOn(primaryPort: number, phone: string, newPhone: string): Promise<void> {
  assert.equal((await loginThrough(server.port, phone, PASSWORD)).status, 200, 'the account (in the database) signs in, its captcha on the new primary');
  assert.equal((await registerThrough(server.port, server.invitationCode, newPhone)).status, 201);
  const results = await Promise.all(Array.from({ length: 8 }, () => request(server.port, 'GET', '/api/auth/captcha/generate')));
  assert.deepEqual(
    results.map((r) => r.status),
    Array(8).fill(200),
  );
  assert.equal(new Set(results.map((r) => r.worker)).size, 2);
  assert.ok(Number(redisCli(primaryPort, 'dbsize')) > 0, 'the shared state is on the primary the sentinel names');
}

it('finds the primary through the sentinel, and follows a failover after a crash, then after a freeze, without a restart', { skip }, async () => {
  const phone = '13430000000';
  assert.equal((await registerThrough(server.port, server.invitationCode, phone)).status, 201);
  assert.equal((await loginThrough(server.port, phone, PASSWORD)).status, 200);
  assert.ok(Number(redisCli(currentPrimary(), 'dbsize')) > 0, 'the shared state is on the primary the sentinel named');
  assert.equal((await request(server.port, 'GET', '/readyz')).body.checks.kv, 'ok');

  const afterCrash = await failOver('SIGKILL');
  await worksOn(afterCrash, phone, '13430000001');

  // The remaining replica follows the new primary before the next failure.
  const [remaining] = [...nodes.keys()].filter((port) => port !== afterCrash && !failed.has(port));
  await until('the other replica follows the new primary', () => redisCli(remaining!, 'info', 'replication').includes(`master_port:${afterCrash}`) && redisCli(remaining!, 'info', 'replication').includes('master_link_status:up'));

  const afterFreeze = await failOver('SIGSTOP');
  assert.equal(afterFreeze, remaining);
  await worksOn(afterFreeze, phone, '13430000002');
});
