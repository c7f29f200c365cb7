// npm run bench:burst -- --n 500 [--runs 3] [--workers N]
// The workshop burst against `gatehouse serve` on the embedded default: first the hashing bound (the
// same n argon2id hashes on every core), then n simultaneous registrations, each with its own captcha,
// one invitation code, one client address. Reports makespan, its ratio to the bound, latency, status
// counts and the peak memory of all the server's processes; medians over the runs.
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { request, startServer } from '../test/helpers/cluster.js';
import { buildOnce, hashingBoundMs, sampleTreeMemory, treeCpuSeconds } from './processes.js';
import { arg, machine, median, summarize } from './stats.js';

const n = arg('n', 500);
const runs = arg('runs', 3);
const workers = arg('workers', availableParallelism());

// The default limits admit 1,500 captchas a minute and 1,000 registrations per 10 minutes from one
// address; a larger burst from one benchmark client needs more.
const env: Record<string, string> = { ...(process.env.BENCH_SERVER_ENV ? JSON.parse(process.env.BENCH_SERVER_ENV) : {}), ...(n > 900 ? { RATE_LIMIT_CAPTCHA_PER_IP: `${n * 2}/60`, RATE_LIMIT_REGISTER_PER_IP: `${n * 2}/600` } : {}) };

interface RunResult {
  boundMs: number;
  makespanMs: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  peakMemMiB: number;
  cpu: { server: number[]; client: number };
}

async function oneRun(run: number): Promise<RunResult> {
  const boundMs = hashingBoundMs(n);
  const server = await startServer({ workers, defaultLimits: true, compiled: true, env, nodeArgs: process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) });
  try {
    const captchas = [];
    for (let i = 0; i < n; i += 100) {
      captchas.push(...(await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => request(server.port, 'GET', '/api/auth/captcha/generate?purpose=register')))));
    }
    const memory = sampleTreeMemory(server.child.pid!);
    const cpuBefore = treeCpuSeconds(server.child.pid!);
    const clientCpuBefore = process.cpuUsage();
    const latencies: number[] = [];
    let cpuSeconds = { server: [] as number[], client: 0 };
    const statuses: Record<string, number> = {};
    const started = performance.now();
    await Promise.all(
      captchas.map(async (captcha, i) => {
        const sent = performance.now();
        const phone = `15${String(run).padStart(2, '0')}${String(i).padStart(7, '0')}`;
        let key: string;
        try {
          const res = await request(server.port, 'POST', '/api/auth/register', {
            body: { phone, password: 'workshop passphrase 2026', name: `Teacher ${i}`, invitation_code: server.invitationCode, captcha_id: captcha.body.captcha_id, captcha: 'TEST' },
          });
          key = res.status === 201 ? '201' : `${res.status} ${res.body?.error?.code ?? ''}`.trim();
        } catch (error) {
          key = `client error: ${(error as Error).message}`;
        }
        latencies.push(performance.now() - sent);
        statuses[key] = (statuses[key] ?? 0) + 1;
      }),
    );
    const makespanMs = performance.now() - started;
    const cpuAfter = treeCpuSeconds(server.child.pid!);
    const clientCpu = process.cpuUsage(clientCpuBefore);
    cpuSeconds = { server: cpuAfter.map((c, i) => +(c - (cpuBefore[i] ?? 0)).toFixed(2)), client: +((clientCpu.user + clientCpu.system) / 1e6).toFixed(2) };
    const peak = memory.stop();
    const lat = summarize(latencies);
    return { boundMs, makespanMs, p50: lat.p50, p99: lat.p99, statuses, peakMemMiB: peak / 2 ** 20, cpu: cpuSeconds };
  } finally {
    await server.stop();
  }
}

buildOnce();
const results: RunResult[] = [];
for (let run = 0; run < runs; run++) {
  const result = await oneRun(run);
  results.push(result);
  console.log(
    `run ${run + 1}: bound ${(result.boundMs / 1000).toFixed(2)} s, makespan ${(result.makespanMs / 1000).toFixed(2)} s, ratio ${(result.makespanMs / result.boundMs).toFixed(2)}, ` +
      `p50 ${result.p50.toFixed(0)} ms, p99 ${result.p99.toFixed(0)} ms, statuses ${JSON.stringify(result.statuses)}, peak memory ${result.peakMemMiB.toFixed(0)} MiB, CPU s: server ${JSON.stringify(result.cpu.server)} client ${result.cpu.client}`,
  );
}
const ratio = median(results.map((r) => r.makespanMs / r.boundMs));
console.log(
  [
    `# bench:burst — ${new Date().toISOString().slice(0, 10)}`,
    `machine: ${machine()}`,
    `burst: ${n} simultaneous registrations, ${workers} workers, embedded SQLite, one invitation code, one client address${Object.keys(env).length ? `, ${JSON.stringify(env)}` : ''}`,
    `median of ${runs}: hashing bound ${(median(results.map((r) => r.boundMs)) / 1000).toFixed(2)} s, makespan ${(median(results.map((r) => r.makespanMs)) / 1000).toFixed(2)} s, ratio ${ratio.toFixed(2)} (goal ≤ 1.25: ${ratio <= 1.25 ? 'met' : 'NOT met'})`,
    `throughput: ${(n / (median(results.map((r) => r.makespanMs)) / 1000)).toFixed(0)} registrations/s`,
    `latency: p50 ${median(results.map((r) => r.p50)).toFixed(0)} ms, p99 ${median(results.map((r) => r.p99)).toFixed(0)} ms`,
    `peak memory of all server processes: ${median(results.map((r) => r.peakMemMiB)).toFixed(0)} MiB`,
  ].join('\n'),
);
