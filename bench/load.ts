// Fires a set of requests at once and records what a client sees: makespan, latencies, statuses.
import { performance } from 'node:perf_hooks';
import type { HttpResult } from '../test/helpers/cluster.js';

export interface LoadResult {
  makespanMs: number;
  latencies: number[];
  statuses: Record<string, number>;
}

export async function fireAll(requests: Array<() => Promise<HttpResult>>, expectedStatus: number): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const started = performance.now();
  await Promise.all(
    requests.map(async (send) => {
      const sent = performance.now();
      let key: string;
      try {
        const res = await send();
        key = res.status === expectedStatus ? String(res.status) : `${res.status} ${res.body?.error?.code ?? ''}`.trim();
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
