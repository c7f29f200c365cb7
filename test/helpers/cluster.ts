// Runs `gatehouse serve` as a real process tree (primary + workers) for cross-process tests.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The compiled command line, as `npm start` runs it. Processes start from the build (`npm test`
 * builds first): through tsx, each of the many processes these tests start spent a second or more
 * compiling the sources again.
 */
export const CLI = path.join(ROOT, 'dist/cli.js');

let buildChecked = false;
/** Refuses to test an old build: a source newer than dist/cli.js means `npm run build` was not run. */
function assertBuildIsCurrent(): void {
  if (buildChecked) return;
  let built: number;
  try {
    built = statSync(CLI).mtimeMs;
  } catch {
    throw new Error('dist/cli.js is missing: run `npm run build` first (npm test does)');
  }
  const sources = readdirSync(path.join(ROOT, 'src'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.ts'));
  const stale = sources.find((e) => statSync(path.join(e.parentPath, e.name)).mtimeMs > built);
  if (stale) throw new Error(`dist/ is older than ${path.join(stale.parentPath, stale.name)}: run \`npm run build\` first (npm test does)`);
  buildChecked = true;
}

/** node's arguments that run a `gatehouse` command from the current build. */
export function cliArgs(args: string[]): string[] {
  assertBuildIsCurrent();
  return [CLI, ...args];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  port: number;
  dataDir: string;
  child: ChildProcess;
  output: () => string;
  invitationCode: string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The key that scale-out test servers share (SECRET_KEY is required there); a test that sets SECRET_KEY itself, even to '', keeps its own. */
export const TEST_SHARED_SECRET = 'a shared test secret key, 32+ characters long';

function withSharedSecret(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const scaleOut = /^postgres(ql)?:/.test(env.DATABASE_URL ?? '') || Boolean(env.REDIS_URL) || Boolean(env.REDIS_SENTINELS);
  return scaleOut && !('SECRET_KEY' in env) ? { ...env, SECRET_KEY: TEST_SHARED_SECRET } : env;
}

export function runCli(args: string[], env: Record<string, string>, input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cliArgs(args), { cwd: ROOT, env: withSharedSecret({ ...process.env, LOG_LEVEL: 'warn', ...env }) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    // 'close', not 'exit': a process can exit before its output has been read to the end.
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** Limits out of the way of tests that are not about limits (those set their own). */
export const GENEROUS_LIMITS: Record<string, string> = {
  RATE_LIMIT_CAPTCHA_PER_IP: '1000000/60',
  RATE_LIMIT_REGISTER_PER_IP: '1000000/60',
  RATE_LIMIT_LOGIN_PER_IP: '1000000/60',
  RATE_LIMIT_LOGIN_PER_ACCOUNT: '1000000/60',
  RATE_LIMIT_LOGIN_PER_ACCOUNT_IP: '1000000/60',
};

export async function startServer(options: {
  workers: number;
  env?: Record<string, string>;
  dataDir?: string;
  defaultLimits?: boolean;
  nodeArgs?: string[];
  /** The test kills worker processes itself; otherwise a worker that died fails the test at stop(). */
  killsWorkers?: boolean;
  /** The port to listen on (a test that must name it in PUBLIC_URL picks it first); default: a free one. */
  port?: number;
}): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'gatehouse-cluster-'));
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...cliArgs(['serve', '--workers', String(options.workers), '--port', String(port)])], {
    cwd: ROOT,
    // No task-worker process unless a test runs background tasks (it passes TASK_WORKERS): one
    // process less to start for each of the suite's servers.
    env: withSharedSecret({ ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn', GATEHOUSE_TEST_CAPTCHA: 'TEST', TASK_WORKERS: '0', ...(options.defaultLimits ? {} : GENEROUS_LIMITS), ...options.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      // A server that never got ready is stopped, with its workers: left running, it would keep the
      // test file's process (and so the whole suite) waiting on its pipes.
      child.kill('SIGKILL');
      reject(new Error(`server did not start in 30 s:\n${output}`));
    }, 30_000);
    // Stops looking once found: a server's log can grow long, and each chunk would scan all of it again.
    const check = () => {
      if (output.includes('Gatehouse listening on')) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output}`));
    });
  });
  const invitationCode = /Invitation code: (\S+)/.exec(output)?.[1] ?? '';
  return {
    port,
    dataDir,
    child,
    output: () => output,
    invitationCode,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      const code = await exited;
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
      // A worker that crashed was replaced at once, and the test may well have passed on the others:
      // a crash is a bug all the same.
      const died = /^.*worker exited.*$/m.exec(output);
      if (died && !options.killsWorkers) throw new Error(`a worker process died during the test: ${died[0]}\n${output.slice(-4000)}`);
      return code;
    },
  };
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
  worker: string | undefined;
}

/** One request on a new connection, so that the cluster's round-robin spreads requests over workers. */
export function request(
  port: number,
  method: string,
  urlPath: string,
  options: {
    body?: unknown;
    rawBody?: string | Buffer;
    cookie?: string;
    headers?: Record<string, string>;
    /** The client's own address (any of 127.0.0.0/8 on Linux's loopback), to be a client of another address. */
    localAddress?: string;
  } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const payload = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        agent: false,
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
        headers: {
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          ...(options.cookie ? { cookie: options.cookie } : {}),
          ...options.headers,
        },
        timeout: 30_000,
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (data += chunk));
        res.on('end', () => {
          let body: unknown = data;
          try {
            body = data ? JSON.parse(data) : null;
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, worker: res.headers['x-worker'] as string | undefined });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${urlPath}`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export function cookieOf(result: HttpResult): string {
  const setCookie = result.headers['set-cookie']?.[0];
  if (!setCookie) throw new Error('no session cookie');
  return setCookie.split(';')[0]!;
}

let counter = 0;
export function uniquePhone(): string {
  counter++;
  return `137${String(process.pid % 10_000).padStart(4, '0')}${String(counter).padStart(4, '0')}`;
}

/** The server's /metrics text; a failed scrape fails the test with what the server answered. */
export async function scrapeMetrics(port: number): Promise<string> {
  const res = await request(port, 'GET', '/metrics');
  assert.equal(res.status, 200, `/metrics answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as string;
}

/** One sample of a Prometheus text exposition, by metric name and exact label set. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries([...(match[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => present[k] === v)) total += Number(match[4]);
  }
  return total;
}

export async function registerThrough(port: number, invitationCode: string, phone: string, password = 'a good long passphrase') {
  const captcha = await request(port, 'GET', '/api/auth/captcha/generate?purpose=register');
  return request(port, 'POST', '/api/auth/register', {
    body: { phone, password, name: 'Teacher', invitation_code: invitationCode, captcha_id: captcha.body.captcha_id, captcha: 'TEST' },
  });
}

export async function loginThrough(port: number, phone: string, password: string, headers?: Record<string, string>) {
  const captcha = await request(port, 'GET', '/api/auth/captcha/generate?purpose=login', { headers });
  return request(port, 'POST', '/api/auth/login', { body: { phone, password, captcha_id: captcha.body.captcha_id, captcha: 'TEST' }, headers });
}

/** Runs fn over items with at most `concurrency` at a time, keeping order. */
export async function mapConcurrent<T, R>(items: T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await fn(items[index]!, index);
      }
    }),
  );
  return results;
}
