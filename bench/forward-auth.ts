// Forward-auth checks per second, with p50/p99: what a reverse proxy in front of protected
// applications asks of Gatehouse for every request. One signed-in session, a rule for the host; the
// client speaks as nginx's auth_request does — GET /api/authz/auth-request with X-Original-URL and the
// browser's cookies — on `connections` kept-alive connections (nginx's upstream keepalive), each
// sending its next check as soon as the answer to the last arrives (a closed loop: latency ≈
// connections ÷ throughput). The client writes prepared bytes and reads only the status line and
// Content-Length, so that it takes little of the cores it shares with the server.
//
// measureForwardAuth(server) runs against a running server (npm run bench:oidc composes it; the server
// needs FORWARD_AUTH_SERVER_ENV); alone, on `gatehouse serve` with the embedded default and workers = cores:
//   node --import tsx bench/forward-auth.ts [--seconds 10] [--warmup 2] [--connections 16] [--workers N]
// The goal on 2 cores: ≥ 5,000 checks/s with p99 ≤ 10 ms.
import net from 'node:net';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { cookieOf, registerThrough, runCli, startServer } from '../test/helpers/cluster.js';
import type { LoopResult } from './closed-loop.js';
import { buildOnce, NPM_START_DEFAULTS } from './processes.js';
import { arg, machine, summarize } from './stats.js';

/** What the server under test needs: forward auth believes the original URL only from a proxy TRUST_PROXY names (the client is on 127.0.0.1). */
export const FORWARD_AUTH_SERVER_ENV: Record<string, string> = { TRUST_PROXY: '127.0.0.1' };

export interface ForwardAuthBenchOptions {
  /** Kept-alive connections, each with one check in flight (default 16). */
  connections?: number;
  /** Measured time, after the warm-up (default 10). */
  seconds?: number;
  /** Checks before the measurement starts: the server's schemas compile, its caches fill (default 2). */
  warmupSeconds?: number;
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

/**
 * Measures forward-auth checks against a running embedded-mode server started with
 * FORWARD_AUTH_SERVER_ENV: sets a rule for the benchmark's host (gatehouse forward-auth set, on the
 * server's DATA_DIR), signs one user in, and runs the closed loop. A LoopResult, as bench/closed-loop.ts's.
 */
export async function measureForwardAuth(server: { port: number; dataDir: string; invitationCode: string }, options: ForwardAuthBenchOptions = {}): Promise<LoopResult> {
  const connections = options.connections ?? 16;
  const seconds = options.seconds ?? 10;
  const warmupSeconds = options.warmupSeconds ?? 2;
  const rule = await runCli(['forward-auth', 'set', '--host', HOST, '--anyone'], { DATA_DIR: server.dataDir });
  if (rule.code !== 0) throw new Error(`forward-auth set failed: ${rule.stderr}`);
  const registered = await registerThrough(server.port, server.invitationCode, '15900000001');
  if (registered.status !== 201) throw new Error(`registration failed: ${JSON.stringify(registered.body)}`);
  const measureFrom = performance.now() + warmupSeconds * 1000;
  const { latencies, statuses } = await closedLoop(server.port, checkRequest(cookieOf(registered)), connections, measureFrom, measureFrom + seconds * 1000);
  const completed = statuses['200'] ?? 0;
  const failures = Object.fromEntries(Object.entries(statuses).filter(([status]) => status !== '200'));
  return { completed, failed: latencies.length - completed, seconds, perSecond: completed / seconds, latencies, failures };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const workers = arg('workers', availableParallelism());
  const connections = arg('connections', 16);
  buildOnce();
  const server = await startServer({ workers, defaultLimits: true, env: { ...NPM_START_DEFAULTS, ...FORWARD_AUTH_SERVER_ENV } });
  try {
    const result = await measureForwardAuth(server, { connections, seconds: arg('seconds', 10), warmupSeconds: arg('warmup', 2) });
    const { p50, p99, max } = summarize(result.latencies);
    console.log(
      [
        `# bench:forward-auth — ${new Date().toISOString().slice(0, 10)}`,
        `machine: ${machine()}`,
        `GET /api/authz/auth-request, one signed-in session, ${connections} kept-alive connections, ${workers} workers, embedded SQLite`,
        `${result.perSecond.toFixed(0)} checks/s over ${result.seconds} s; latency p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${max.toFixed(1)} ms${result.failed ? `; ${result.failed} failed: ${JSON.stringify(result.failures)}` : ''}`,
        `goal on 2 cores: ≥ 5,000 checks/s with p99 ≤ 10 ms — ${result.perSecond >= 5000 && p99 <= 10 ? 'met' : 'not met'}`,
      ].join('\n'),
    );
  } finally {
    await server.stop();
  }
}
