// Task workers as real processes: the worker that `gatehouse serve` forks runs tasks; a standalone
// `gatehouse worker` killed with SIGKILL mid-task loses nothing — another worker runs the task after
// its lease expires; SIGTERM hands a running task back at once.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { cliArgs, ROOT, request, runCli, scrapeMetrics, startServer, type ServerProcess } from './helpers/cluster.js';

function startWorker(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, cliArgs(['worker', '--concurrency', '2']), { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('task workers as processes', () => {
  let server: ServerProcess;
  let key: string;
  const env = { TASK_WORKERS: '0', TASK_LEASE_SECONDS: '2', TASK_POLL_MS: '50' };
  const auth = () => ({ authorization: `Bearer ${key}` });
  const submit = async (payload: unknown) => {
    const res = await request(server.port, 'POST', '/api/tasks', { headers: auth(), body: { type: 'system.echo', payload } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.task.id as string;
  };
  const task = async (id: string) => (await request(server.port, 'GET', `/api/tasks/${id}`, { headers: auth() })).body.task;

  before(async () => {
    server = await startServer({ workers: 2, env });
    const created = await runCli(['apikey', 'create', '--name', 'ops', '--scopes', 'tasks:write,tasks:read', '--json'], { DATA_DIR: server.dataDir });
    assert.equal(created.code, 0, created.stderr);
    key = JSON.parse(created.stdout).key;
  });
  after(async () => {
    await server.stop();
  });

  it('a worker killed with SIGKILL mid-task: another worker runs the task after the lease', async () => {
    const first = startWorker({ ...env, DATA_DIR: server.dataDir });
    const id = await submit({ message: 'survive', delay_ms: 3000 });
    await until('the first worker to start the task', async () => ((await task(id)).state === 'running' ? true : undefined));
    first.child.kill('SIGKILL');
    await first.exited;
    assert.equal((await task(id)).state, 'running', 'the dead worker still holds the lease');
    const second = startWorker({ ...env, DATA_DIR: server.dataDir });
    try {
      const done = await until('the task to succeed on the second worker', async () => {
        const t = await task(id);
        return t.state === 'succeeded' ? t : undefined;
      });
      assert.equal(done.attempts, 2);
      assert.deepEqual(done.result, { message: 'survive', attempt: 2 });
      assert.match(second.output(), /task succeeded/);
    } finally {
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0);
    }
  });

  it('SIGTERM hands a running task back at once, uncounted, and exits 0', async () => {
    const worker = startWorker({ ...env, DATA_DIR: server.dataDir, SHUTDOWN_TIMEOUT_MS: '500' });
    const id = await submit({ message: 'handed back', delay_ms: 20_000 });
    await until('the task to run', async () => ((await task(id)).state === 'running' ? true : undefined));
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0, worker.output());
    const back = await task(id);
    assert.equal(back.state, 'queued');
    assert.equal(back.attempts, 0);
  });

  it('gatehouse serve forks a task worker by default', async () => {
    const withWorker = await startServer({ workers: 2, env: { TASK_WORKERS: '1', TASK_POLL_MS: '50' } });
    try {
      const created = await runCli(['apikey', 'create', '--name', 'default', '--scopes', 'tasks:write,tasks:read', '--json'], { DATA_DIR: withWorker.dataDir });
      const ownKey = JSON.parse(created.stdout).key as string;
      const res = await request(withWorker.port, 'POST', '/api/tasks', { headers: { authorization: `Bearer ${ownKey}` }, body: { type: 'system.echo', payload: { message: 'forked' } } });
      assert.equal(res.status, 201);
      const done = await until('the forked worker to run it', async () => {
        const t = (await request(withWorker.port, 'GET', `/api/tasks/${res.body.task.id}`, { headers: { authorization: `Bearer ${ownKey}` } })).body.task;
        return t.state === 'succeeded' ? t : undefined;
      });
      assert.equal(done.result.message, 'forked');
      const metrics = await scrapeMetrics(withWorker.port);
      assert.match(metrics, /gatehouse_tasks\{state="succeeded"\} 1\b/);
      assert.match(metrics, /gatehouse_task_run_duration_seconds_count\{type="system.echo",outcome="succeeded"\} 1\b/);
    } finally {
      assert.equal(await withWorker.stop(), 0);
    }
  });
});
