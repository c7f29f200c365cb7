// Redis behind Sentinel (REDIS_SENTINELS): a primary, a replica and a sentinel of the test's own. The
// service finds the primary through the sentinel; when the primary dies and the sentinel promotes the
// replica, the service follows it without a restart: a bounded outage (503, not ready), then captchas,
// logins and registrations work again on the new primary.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, it } from 'node:test';
import { freePort, loginThrough, registerThrough, request, startServer, type ServerProcess } from './helpers/cluster.js';

const PASSWORD = 'a good long passphrase';
const NAME = 'gatehouse-test';

let dir: string;
const processes: ChildProcess[] = [];
let primary: ChildProcess;
let primaryPort: number;
let replicaPort: number;
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
  dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-sentinel-'));
  [primaryPort, replicaPort, sentinelPort] = [await freePort(), await freePort(), await freePort()];
  const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  primary = redis(['--port', String(primaryPort), ...common]);
  await until('the primary answers', () => redisCli(primaryPort, 'ping') === 'PONG');
  redis(['--port', String(replicaPort), '--replicaof', '127.0.0.1', String(primaryPort), ...common]);
  await until('the replica is in sync', () => redisCli(replicaPort, 'info', 'replication').includes('master_link_status:up'));
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
  await until('the sentinel knows the replica', () => redisCli(sentinelPort, 'sentinel', 'replicas', NAME).includes(String(replicaPort)));
  server = await startServer({ workers: 2, env: { REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`, REDIS_SENTINEL_NAME: NAME, REDIS_KEY_PREFIX: 'gh:' } });
});

after(async () => {
  await server?.stop();
  for (const child of processes) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

it('finds the primary through the sentinel, and follows a failover without a restart', async () => {
  const phone = '13430000000';
  assert.equal((await registerThrough(server.port, server.invitationCode, phone)).status, 201);
  assert.equal((await loginThrough(server.port, phone, PASSWORD)).status, 200);
  assert.ok(Number(redisCli(primaryPort, 'dbsize')) > 0, 'the shared state is on the primary the sentinel named');
  assert.equal((await request(server.port, 'GET', '/readyz')).body.checks.kv, 'ok');

  primary.kill('SIGKILL');
  await until('the sentinel has promoted the replica', () => redisCli(replicaPort, 'role').startsWith('master'));
  // Each worker process finds the new primary by itself: ready again once both say so.
  const readyWorkers = new Set<string>();
  await until('both workers are ready again', async () => {
    const ready = await request(server.port, 'GET', '/readyz');
    if (ready.status === 200) readyWorkers.add(ready.worker!);
    return readyWorkers.size === 2;
  });

  assert.equal((await loginThrough(server.port, phone, PASSWORD)).status, 200, 'the account (in the database) signs in, its captcha on the new primary');
  assert.equal((await registerThrough(server.port, server.invitationCode, '13430000001')).status, 201);
  // Both workers' connections moved: a handful of requests, spread over the workers, all answer.
  const results = await Promise.all(Array.from({ length: 8 }, () => request(server.port, 'GET', '/api/auth/captcha/generate')));
  assert.deepEqual(
    results.map((r) => r.status),
    Array(8).fill(200),
  );
  assert.equal(new Set(results.map((r) => r.worker)).size, 2);
  assert.ok(Number(redisCli(replicaPort, 'dbsize')) > 0);
});
