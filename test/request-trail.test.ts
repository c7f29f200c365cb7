// One request followed by its id through the shipped nginx configuration (deploy/nginx.compose.conf, in
// a real nginx), a `gatehouse serve` HTTP worker and the task worker it forks: nginx's JSON access log,
// the server's request line and the task worker's line for the task the request created all carry it.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { freePort, request, ROOT, runCli, startServer, type ServerProcess } from './helpers/cluster.js';
import { unmet } from './helpers/requirements.js';

const noNginx = await unmet('nginx');

type LogLine = Record<string, any>;
const jsonLines = (text: string): LogLine[] =>
  text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));

/** deploy/nginx.compose.conf as shipped, with the compose hosts and ports replaced by this machine's. */
async function startShippedNginx(upstreamPort: number): Promise<{ port: number; accessLog: () => LogLine[]; stop(): Promise<void> }> {
  const prefix = mkdtempSync(path.join(tmpdir(), 'gatehouse-trail-nginx-'));
  mkdirSync(path.join(prefix, 'logs'));
  const port = await freePort();
  const accessLog = path.join(prefix, 'access.log');
  const site = readFileSync(path.join(ROOT, 'deploy/nginx.compose.conf'), 'utf8')
    .replace('server gatehouse-1:9527;', `server 127.0.0.1:${upstreamPort};`)
    .replace(/^\s*server gatehouse-2:9527;\n/m, '')
    .replace('listen 80;', `listen 127.0.0.1:${port};`)
    .replace('access_log /dev/stdout gatehouse_json;', `access_log ${accessLog} gatehouse_json;`);
  assert.ok(site.includes(accessLog) && site.includes(`127.0.0.1:${upstreamPort}`), 'the shipped configuration changed shape');
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${prefix}/${t};`).join(' ');
  writeFileSync(path.join(prefix, 'site.conf'), site);
  writeFileSync(path.join(prefix, 'nginx.conf'), `worker_processes 1; pid ${prefix}/nginx.pid; error_log ${prefix}/logs/error.log warn;\nevents {}\nhttp { ${temp} include ${prefix}/site.conf; }\n`);
  const child: ChildProcess = spawn('nginx', ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    if ((await request(port, 'GET', '/healthz').catch(() => undefined))?.status === 200) break;
    if (i > 100) throw new Error(`nginx did not start: ${stderr}`);
    await sleep(100);
  }
  return {
    port,
    accessLog: () => (existsSync(accessLog) ? jsonLines(readFileSync(accessLog, 'utf8')) : []),
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGQUIT');
      await exited;
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('one request id through nginx, the server and the task worker', { skip: noNginx }, () => {
  let server: ServerProcess;
  let nginx: Awaited<ReturnType<typeof startShippedNginx>>;
  let key: string;

  before(async () => {
    server = await startServer({ workers: 2, env: { TASK_WORKERS: '1', TASK_POLL_MS: '50', LOG_LEVEL: 'info', TRUST_PROXY: '127.0.0.1' } });
    const created = await runCli(['apikey', 'create', '--name', 'trail', '--scopes', 'tasks:write,tasks:read', '--json'], { DATA_DIR: server.dataDir });
    assert.equal(created.code, 0, created.stderr);
    key = JSON.parse(created.stdout).key;
    nginx = await startShippedNginx(server.port);
  });
  after(async () => {
    await nginx?.stop();
    await server?.stop();
  });

  /** Submits an echo task through nginx and returns the id the answer names and every line that carries it. */
  async function follow(headers: Record<string, string>) {
    const res = await request(nginx.port, 'POST', '/api/tasks', { headers: { authorization: `Bearer ${key}`, ...headers }, body: { type: 'system.echo', payload: { message: 'trail' } } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const id = res.headers['x-request-id'] as string;
    const taskId = res.body.task.id as string;
    assert.equal(res.body.task.request_id, id);
    const taskLine = await until('the task worker to log the task', () => jsonLines(server.output()).find((l) => l.task === taskId && l.msg === 'task succeeded'));
    // Each process writes to its own pipe: the server's line may arrive after the task worker's.
    const serverLine = await until('the server to log the request', () => jsonLines(server.output()).find((l) => l.msg === 'request completed' && l.reqId === id));
    const nginxLine = await until('nginx to log the request', () => nginx.accessLog().find((l) => l.reqId === id));
    return { id, taskLine, serverLine, nginxLine };
  }

  it('a client\'s X-Request-Id names the request in nginx\'s log, the server\'s and the task worker\'s', async () => {
    const sent = `trail-${Date.now()}`;
    const { id, taskLine, serverLine, nginxLine } = await follow({ 'x-request-id': sent });
    assert.equal(id, sent);
    assert.equal(nginxLine.res.statusCode, 201);
    assert.equal(nginxLine.req.url, '/api/tasks');
    assert.equal(serverLine.role, 'http');
    assert.equal(taskLine.reqId, sent);
    assert.equal(taskLine.role, 'tasks');
  });

  it('without one (or with a malformed one), nginx makes the id, and the server and task worker use it', async () => {
    const variants: Array<Record<string, string>> = [{}, { 'x-request-id': 'not a valid id' }];
    for (const headers of variants) {
      const { id, taskLine, serverLine } = await follow(headers);
      assert.match(id, /^[0-9a-f]{32}$/, 'nginx\'s $request_id');
      assert.equal(serverLine.res.statusCode, 201);
      assert.equal(taskLine.reqId, id);
    }
  });
});
