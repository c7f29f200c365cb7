// Fires a set of requests at once and records what a client sees: makespan, latencies, statuses.
//
// The client shares the machine with the server it measures, so it is kept lean: every request is
// serialized to its bytes before the clock starts, sent on its own connection (so that the cluster
// spreads them over the workers, as a crowd of browsers would be) and read back as raw bytes; only
// the status line is parsed, and the JSON body only of an unexpected answer. Node's HTTP client
// spent ~0.5 CPU-s on a 500-request burst; this spends a fraction of that.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { HttpResult } from '../test/helpers/cluster.js';

export interface LoadResult {
  makespanMs: number;
  latencies: number[];
  statuses: Record<string, number>;
}

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
}

function toBytes(port: number, { method, path, body }: LoadRequest): Buffer {
  const payload = body === undefined ? '' : JSON.stringify(body);
  const head =
    `${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nconnection: close\r\n` +
    (payload ? `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(payload)}\r\n` : '') +
    '\r\n';
  return Buffer.from(head + payload);
}

/** The status and, for an unexpected one, the error code of a whole HTTP/1.1 response. */
function outcome(response: Buffer, expectedStatus: number): string {
  const status = Number(response.subarray(9, 12).toString('latin1'));
  if (status === expectedStatus) return String(status);
  if (!status) return 'client error: no HTTP response';
  const bodyStart = response.indexOf('\r\n\r\n');
  let code = '';
  try {
    code = JSON.parse(response.subarray(bodyStart + 4).toString('utf8'))?.error?.code ?? '';
  } catch {
    /* not JSON */
  }
  return `${status} ${code}`.trim();
}

function send(port: number, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.setTimeout(60_000, () => socket.destroy(new Error('timed out after 60 s')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    // connection: close — the server ends the connection after its answer.
    socket.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

export async function fireAll(port: number, requests: LoadRequest[], expectedStatus: number): Promise<LoadResult> {
  const prepared = requests.map((r) => toBytes(port, r));
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const started = performance.now();
  await Promise.all(
    prepared.map(async (bytes) => {
      const sent = performance.now();
      let key: string;
      try {
        key = outcome(await send(port, bytes), expectedStatus);
      } catch (error) {
        key = `client error: ${(error as Error).message}`;
      }
      latencies.push(performance.now() - sent);
      statuses[key] = (statuses[key] ?? 0) + 1;
    }),
  );
  return { makespanMs: performance.now() - started, latencies, statuses };
}

/** Captchas for `n` requests, fetched 100 at a time (not part of what is measured). */
export async function captchas(send: () => Promise<HttpResult>, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 100) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, n - i) }, send));
    ids.push(...batch.map((r) => r.body.captcha_id as string));
  }
  return ids;
}
