// Forward-auth checks per second, with p50/p99: what a reverse proxy in front of protected
// applications asks of Gatehouse for every request. `gatehouse serve` on the embedded default
// (workers = cores), one signed-in session, a rule for the host; the client speaks as nginx's
// auth_request does — GET /api/authz/auth-request with X-Original-URL and the browser's cookies — on
// `connections` kept-alive connections (nginx's upstream keepalive), each sending its next check as
// soon as the answer to the last arrives (a closed loop: latency ≈ connections ÷ throughput).
//
// `benchForwardAuth()` is composed into `npm run bench:oidc`; alone:
//   node --import tsx bench/forward-auth.ts [--seconds 10] [--warmup 2] [--connections 16] [--workers N]
// The goal on 2 cores: ≥ 5,000 checks/s with p99 ≤ 10 ms.
import net from 'node:net';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { cookieOf, registerThrough, runCli, startServer } from '../test/helpers/cluster.js';
import { buildOnce, NPM_START_DEFAULTS } from './processes.js';
import { arg, machine, summarize } from './stats.js';

export interface ForwardAuthBenchOptions {
  /** Server worker processes; default: the core count, as `npm start`. */
  workers?: number;
  /** Kept-alive connections, each with one check in flight. */
  connections?: number;
  /** Measured time, after the warm-up. */
  seconds?: number;
  /** Checks before the measurement starts (the server's schemas compile, its caches fill). */
  warmupSeconds?: number;
}

export interface ForwardAuthBenchResult {
  workers: number;
  connections: number;
  seconds: number;
  /** Checks answered within the measured time. */
  checks: number;
  checksPerSecond: number;
  /** Milliseconds. */
  p50: number;
  p99: number;
  max: number;
  /** Answers by status ("200"), and by status and code for anything else. */
  statuses: Record<string, number>;
}

const HOST = 'app.bench.test';

/** The bytes nginx sends for one auth_request subrequest (its keepalive upstream), with a browser's other cookies beside the session. */
function checkRequest(sessionCookie: string): Buffer {
  return Buffer.from(
    'GET /api/authz/auth-request HTTP/1.1\r\nHost: gatehouse\r\n' +
      `X-Original-URL: https://${HOST}/courses/42/lessons?page=3\r\nX-Forwarded-For: 203.0.113.7\r\n` +
      `User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36\r\n` +
      `Cookie: _ga=GA1.1.1234567890.1700000000; lang=zh-CN; ${sessionCookie}; app_session=abcdef0123456789\r\n\r\n`,
  );
}

/** One answer's length in `buffer` (headers and Content-Length body), or 0 while it is incomplete. */
function answerLength(buffer: Buffer): number {
  const headerEnd = buffer.indexOf('\r\n\r\n');
  if (headerEnd === -1) return 0;
  const match = /\r\ncontent-length:\s*(\d+)/i.exec(buffer.subarray(0, headerEnd).toString('latin1'));
  if (!match) throw new Error(`an answer without Content-Length: ${buffer.subarray(0, headerEnd).toString('latin1')}`);
  const total = headerEnd + 4 + Number(match[1]);
  return buffer.length >= total ? total : 0;
}

function outcome(answer: Buffer): string {
  const status = answer.subarray(9, 12).toString('latin1');
  if (status === '200') return status;
  const code = /"code":"([A-Z_]+)"/.exec(answer.toString('utf8'))?.[1];
  return code ? `${status} ${code}` : status;
}

/** Runs the closed loop on `connections` connections; latencies of the checks sent within [measureFrom, measureUntil). */
async function closedLoop(port: number, request: Buffer, connections: number, measureFrom: number, measureUntil: number) {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  await Promise.all(
    Array.from(
      { length: connections },
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = net.connect(port, '127.0.0.1');
          socket.setNoDelay(true);
          let buffer: Buffer = Buffer.alloc(0);
          let sentAt = 0;
          const send = () => {
            sentAt = performance.now();
            socket.write(request);
          };
          socket.on('connect', send);
          socket.on('data', (chunk: Buffer) => {
            buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
            for (let length = answerLength(buffer); length > 0; length = answerLength(buffer)) {
              const now = performance.now();
              if (sentAt >= measureFrom && sentAt < measureUntil) {
                latencies.push(now - sentAt);
                const key = outcome(buffer.subarray(0, length));
                statuses[key] = (statuses[key] ?? 0) + 1;
              }
              buffer = buffer.subarray(length);
              if (now < measureUntil) send();
              else socket.end(resolve);
            }
          });
          socket.on('error', reject);
        }),
    ),
  );
  return { latencies, statuses };
}

/** Starts a server (from the current build: call buildOnce first), signs one user in, and measures. */
export async function benchForwardAuth(options: ForwardAuthBenchOptions = {}): Promise<ForwardAuthBenchResult> {
  const workers = options.workers ?? availableParallelism();
  const connections = options.connections ?? 16;
  const seconds = options.seconds ?? 10;
  const warmupSeconds = options.warmupSeconds ?? 2;
  const server = await startServer({ workers, defaultLimits: true, env: { ...NPM_START_DEFAULTS, TRUST_PROXY: '127.0.0.1' } });
  try {
    const rule = await runCli(['forward-auth', 'set', '--host', HOST, '--anyone'], { DATA_DIR: server.dataDir });
    if (rule.code !== 0) throw new Error(`forward-auth set failed: ${rule.stderr}`);
    const registered = await registerThrough(server.port, server.invitationCode, '15900000001');
    if (registered.status !== 201) throw new Error(`registration failed: ${JSON.stringify(registered.body)}`);
    const start = performance.now();
    const measureFrom = start + warmupSeconds * 1000;
    const measureUntil = measureFrom + seconds * 1000;
    const { latencies, statuses } = await closedLoop(server.port, checkRequest(cookieOf(registered)), connections, measureFrom, measureUntil);
    const summary = summarize(latencies);
    return { workers, connections, seconds, checks: summary.n, checksPerSecond: summary.n / seconds, p50: summary.p50, p99: summary.p99, max: summary.max, statuses };
  } finally {
    await server.stop();
  }
}

export function reportForwardAuth(result: ForwardAuthBenchResult): string {
  return [
    `forward-auth checks (GET /api/authz/auth-request, one signed-in session, ${result.connections} kept-alive connections, ${result.workers} workers, embedded SQLite):`,
    `  ${result.checksPerSecond.toFixed(0)} checks/s over ${result.seconds} s; latency p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, max ${result.max.toFixed(1)} ms; statuses ${JSON.stringify(result.statuses)}`,
    `  goal on 2 cores: ≥ 5,000 checks/s with p99 ≤ 10 ms — ${result.checksPerSecond >= 5000 && result.p99 <= 10 ? 'met' : 'not met'}`,
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  buildOnce();
  const result = await benchForwardAuth({ workers: arg('workers', availableParallelism()), connections: arg('connections', 16), seconds: arg('seconds', 10), warmupSeconds: arg('warmup', 2) });
  console.log([`# bench:forward-auth — ${new Date().toISOString().slice(0, 10)}`, `machine: ${machine()}`, reportForwardAuth(result)].join('\n'));
}
