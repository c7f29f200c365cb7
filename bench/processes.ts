// Process-tree helpers for the benchmarks: the hashing bound and memory of a server's processes.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const HASH_BOUND = fileURLToPath(new URL('./hash-bound.ts', import.meta.url));

/** The server settings of `npm start` that the test helper changes: its log level (the helper quiets servers to `warn`) and its task worker (the helper starts none). */
export const NPM_START_DEFAULTS: Record<string, string> = { LOG_LEVEL: 'info', TASK_WORKERS: '1' };

/** Benchmarks measure what `npm start` runs: the compiled build. */
export function buildOnce(): void {
  execFileSync('npm', ['run', '-s', 'build'], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: 'inherit' });
}

/** Milliseconds for n argon2id operations on every core, in a fresh process. */
export function hashingBoundMs(n: number, op: 'hash' | 'verify' = 'hash'): number {
  const result = spawnSync(process.execPath, ['--import', 'tsx', HASH_BOUND, String(n), op], {
    // As many threads as cores: more only thrash the caches (argon2id is memory-hard) and slow the bound.
    env: { ...process.env, UV_THREADPOOL_SIZE: String(availableParallelism()) },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`hash-bound failed: ${result.stderr}`);
  return JSON.parse(result.stdout).ms as number;
}

function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    /* none */
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

function rssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Samples the summed resident memory of process trees until stopped; returns the peak. */
export function sampleTreeMemory(rootPids: number[], intervalMs = 100) {
  const pids = rootPids.flatMap((pid) => [pid, ...descendants(pid)]);
  let peak = 0;
  const sample = () => {
    peak = Math.max(peak, pids.reduce((sum, pid) => sum + rssBytes(pid), 0));
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop(): number {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

function cpuSeconds(pid: number, thread?: number): number {
  try {
    const fields = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8').split(') ')[1]!.split(' ');
    if (process.env.BENCH_CPU_SPLIT) return Number(fields[Number(process.env.BENCH_CPU_SPLIT)]) / 100;
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) used so far by each process of a tree: [primary, ...workers]. */
export function treeCpuSeconds(rootPid: number): number[] {
  return [rootPid, ...descendants(rootPid)].map((pid) => cpuSeconds(pid));
}

/** CPU seconds used so far by a process's threads other than its main one: in a Gatehouse primary, its hashing threads (and V8's few helpers). */
export function offMainThreadCpuSeconds(pid: number): number {
  return cpuSeconds(pid) - cpuSeconds(pid, pid);
}

/** CPU seconds used so far by the main (JavaScript) thread of each process of a tree. */
export function treeMainThreadCpuSeconds(rootPid: number): number[] {
  return [rootPid, ...descendants(rootPid)].map((pid) => cpuSeconds(pid, pid));
}

/** CPU seconds of the whole machine so far (/proc/stat): busy, idle (incl. waiting on I/O) and stolen by the hypervisor. */
export function machineCpuSeconds(): { busy: number; idle: number; steal: number } {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number) as number[];
  const tick = 100;
  return { busy: (user! + nice! + system! + irq! + softirq!) / tick, idle: (idle! + iowait!) / tick, steal: steal! / tick };
}
