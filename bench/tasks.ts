// npm run bench:tasks -- [--n 2000] [--runs 3] [--workers 2] [--concurrency 8] [--mode embedded|redis|all]
// Tasks per second through the queue: `n` system.echo tasks submitted by a producer (what the API does
// for POST /api/tasks, without the HTTP), run by `workers` real `gatehouse worker` processes (compiled
// build), each running `concurrency` at a time. Reports submission rate, makespan until every task has
// succeeded, throughput, and the queue latency (created → finished) per task. Medians over the runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { openRuntime } from '../src/server/runtime.js';
import { TEST_REDIS_URL, uniquePrefix } from '../test/helpers/redis.js';
import { buildOnce } from './processes.js';
import { arg, machine, median, summarize } from './stats.js';

const n = arg('n', 2000);
const runs = arg('runs', 3);
const workers = arg('workers', 2);
const concurrency = arg('concurrency', 8);
const modeIndex = process.argv.indexOf('--mode');
const modeArg = modeIndex === -1 ? 'all' : process.argv[modeIndex + 1]!;
const modes = modeArg === 'all' ? ['embedded', 'redis'] : [modeArg];
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

function startWorker(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [CLI, 'worker', '--concurrency', String(concurrency)], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: 'ignore' });
}

async function oneRun(mode: string) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-tasks-'));
  const env: Record<string, string> = { DATA_DIR: dataDir, TASK_POLL_MS: '50', ...(mode === 'redis' ? { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: uniquePrefix('bench-tasks'), SECRET_KEY: 'b'.repeat(40) } : {}) };
  const config = loadConfig(env, {});
  const runtime = await openRuntime(config);
  await migrateToLatest(runtime.database.db);
  const children = Array.from({ length: workers }, () => startWorker(env));
  try {
    await sleep(1500); // the workers start and connect
    const started = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < n; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, n - i) }, (_, j) => runtime.tasks.submit({ type: 'system.echo', payload: { message: `task ${i + j}`, delay_ms: 0 }, priority: 5, maxAttempts: 3 })),
      );
      ids.push(...batch.map((r) => r.task.id));
    }
    const submittedMs = performance.now() - started;
    for (;;) {
      const counts = await runtime.tasks.counts();
      if (counts.succeeded >= n) break;
      if (counts.dead > 0) throw new Error(`${counts.dead} tasks died`);
      await sleep(20);
    }
    const makespanMs = performance.now() - started;
    const sample = await Promise.all(ids.filter((_, i) => i % Math.max(1, Math.floor(n / 200)) === 0).map((id) => runtime.tasks.get(id)));
    const latencies = sample.map((t) => t!.finished_at! - t!.created_at);
    return { submittedMs, makespanMs, ...summarize(latencies) };
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve(null) : c.on('exit', resolve)))));
    await runtime.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

buildOnce();
const lines = [`# bench:tasks — ${new Date().toISOString().slice(0, 10)}`, `machine: ${machine()}`, `${n} system.echo tasks, ${workers} worker processes × concurrency ${concurrency}`];
for (const mode of modes) {
  const results = [];
  for (let run = 0; run < runs; run++) {
    const r = await oneRun(mode);
    results.push(r);
    console.log(`${mode} run ${run + 1}: submitted in ${(r.submittedMs / 1000).toFixed(2)} s (${(n / (r.submittedMs / 1000)).toFixed(0)}/s), all done in ${(r.makespanMs / 1000).toFixed(2)} s (${(n / (r.makespanMs / 1000)).toFixed(0)} tasks/s), queue latency p50 ${r.p50.toFixed(0)} ms p99 ${r.p99.toFixed(0)} ms`);
  }
  const makespan = median(results.map((r) => r.makespanMs));
  lines.push(
    `${mode === 'embedded' ? 'embedded (SQLite table with leases)' : 'scale-out (BullMQ on Redis)'}: median of ${runs}: ${(n / (makespan / 1000)).toFixed(0)} tasks/s end to end (makespan ${(makespan / 1000).toFixed(2)} s), submission ${(n / (median(results.map((r) => r.submittedMs)) / 1000)).toFixed(0)}/s, queue latency p50 ${median(results.map((r) => r.p50)).toFixed(0)} ms, p99 ${median(results.map((r) => r.p99)).toFixed(0)} ms`,
  );
}
console.log(lines.join('\n'));
