// npm run bench:startup [-- --runs 5 --workers 2] — how long `gatehouse serve` takes to be ready, and
// what each of its processes spends getting there: the primary (migrations, the hashing threads),
// each HTTP worker (the HTTP stack and every route), the task worker. A worker's start is paid again
// whenever the primary replaces one, so it is worth keeping small. Also the cost of a route's first
// request, which compiles that route's schemas (they compile on first use).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { freePort, request } from '../test/helpers/cluster.js';
import { buildOnce, NPM_START_DEFAULTS, treeCpuSeconds } from './processes.js';
import { arg, machine, median } from './stats.js';

const runs = arg('runs', 5);
const workers = arg('workers', 2);
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

interface Run {
  readyMs: number;
  /** [primary, worker 0 … worker N-1, task worker] */
  cpu: number[];
  firstRequestMs: number;
  secondRequestMs: number;
}

async function timed(send: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await send();
  return performance.now() - started;
}

async function startOnce(dataDir: string): Promise<Run> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, 'serve', '--workers', String(workers), '--port', String(port)], {
    env: { ...process.env, ...NPM_START_DEFAULTS, DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const readyMs = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Gatehouse listening on')) resolve(performance.now() - started);
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}:\n${output}`)));
  });
  child.stdout!.resume();
  const cpu = treeCpuSeconds(child.pid!);
  // The same refused login once per worker (round-robin hands each new connection to the next worker),
  // then once more: on a worker's first, the route's validator and error serializer compile.
  const login = () => request(port, 'POST', '/api/auth/login', { body: { phone: '13800000000', password: 'x', captcha_id: 'none', captcha: 'x' } });
  const first: number[] = [];
  const second: number[] = [];
  for (let i = 0; i < workers; i++) first.push(await timed(login));
  for (let i = 0; i < workers; i++) second.push(await timed(login));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  return { readyMs, cpu, firstRequestMs: median(first), secondRequestMs: median(second) };
}

buildOnce();
const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-startup-'));
try {
  // The first start sets up the data directory (migrations, first organization); the runs restart on it.
  const setup = await startOnce(dataDir);
  const results: Run[] = [];
  for (let i = 0; i < runs; i++) results.push(await startOnce(dataDir));
  const cpuOf = (index: (cpu: number[]) => number) => median(results.map((r) => index(r.cpu))).toFixed(2);
  const workerCpu = (cpu: number[]) => cpu.slice(1, 1 + workers).reduce((a, b) => a + b, 0) / workers;
  console.log(`# gatehouse serve --workers ${workers}: start-up (${machine()})`);
  console.log(`first start on an empty data directory: ready in ${setup.readyMs.toFixed(0)} ms`);
  console.log(`restarts (${runs}): ready in ${median(results.map((r) => r.readyMs)).toFixed(0)} ms (median; ${results.map((r) => r.readyMs.toFixed(0)).join(', ')})`);
  console.log(`CPU-s to ready (median): primary ${cpuOf((c) => c[0]!)}, each HTTP worker ${cpuOf(workerCpu)}, task worker ${cpuOf((c) => c[1 + workers] ?? 0)}, all ${cpuOf((c) => c.reduce((a, b) => a + b, 0))}`);
  console.log(`a route's first request (POST /api/auth/login, refused): ${median(results.map((r) => r.firstRequestMs)).toFixed(1)} ms; the next: ${median(results.map((r) => r.secondRequestMs)).toFixed(1)} ms (medians)`);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
