// Redis for tests: the machine's server (REDIS_URL for tests, default 127.0.0.1:6379, database 15),
// with a key prefix of its own per test run so that runs never see each other's keys.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

export const TEST_REDIS_URL = process.env.GATEHOUSE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/15';

export function uniquePrefix(label: string): string {
  return `gatehouse-test:${label}:${randomBytes(4).toString('hex')}:`;
}

/** A redis-server of the test's own on `port` (no persistence), once it answers PING; the test stops it. */
export async function startOwnRedis(port: number): Promise<ChildProcess> {
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    await sleep(50);
    try {
      if (execFileSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes('PONG')) return server;
    } catch {
      /* not listening yet */
    }
  }
  server.kill('SIGKILL');
  throw new Error('redis-server did not start');
}
