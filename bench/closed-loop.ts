// A closed-loop load: `concurrency` clients, each sending its next request as soon as its last one is
// answered, for a fixed time, on kept-alive connections (as apps and reverse proxies talk to an
// identity provider). Throughput is completions per second; latency is each step's.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function keepAliveClient(port: number, sockets: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  function send(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  return { send, close: () => agent.destroy() };
}

export interface LoopResult {
  completed: number;
  failed: number;
  seconds: number;
  perSecond: number;
  latencies: number[];
  failures: Record<string, number>;
}

/** Runs `step(client)` in `concurrency` loops for `durationMs`; a step resolves to null when it succeeded, or to why it failed. */
export async function closedLoop(concurrency: number, durationMs: number, step: (loop: number) => Promise<string | null>): Promise<LoopResult> {
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let completed = 0;
  let failed = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      while (performance.now() < deadline) {
        const at = performance.now();
        let outcome: string | null;
        try {
          outcome = await step(loop);
        } catch (error) {
          outcome = (error as Error).message;
        }
        latencies.push(performance.now() - at);
        if (outcome === null) completed++;
        else {
          failed++;
          failures[outcome] = (failures[outcome] ?? 0) + 1;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { completed, failed, seconds, perSecond: completed / seconds, latencies, failures };
}
