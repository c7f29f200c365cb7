// Sizes libuv's thread pool before anything uses it: the pool starts on first use with
// UV_THREADPOOL_SIZE threads (4 by default) and never changes. Imported first by the command line,
// ahead of every module that might queue work on the pool.
//
// - The cluster primary of `serve` is the machine's password-hashing pool and uses libuv for nothing
//   else once the workers run: its pool is exactly HASH_THREADS threads, and every hash is handed to
//   libuv as it arrives (src/server/cluster-hashing.ts). A thread that finishes a hash takes the next
//   from libuv's queue at once; when the primary's event loop had to hand out each next hash, the
//   round trip (wake the loop, run the callback, wake a thread) left a core idle ~10 % of a burst.
// - Every other process (HTTP workers, a single-process server, task workers, the other commands)
//   gets HASH_THREADS + 4 threads: its own hashing is capped at HASH_THREADS in JavaScript
//   (createHashRunner), and file system and DNS work keep libuv's four default threads beside it.
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { loadConfig } from '../config.js';

/** libuv's own default, left for file system and DNS work beside the hashing threads. */
const LIBUV_DEFAULT_THREADS = 4;
const MAX_THREADS = 1024;

function configured(): { hashThreads: number; workers: number } {
  const args = process.argv.slice(2);
  const flag = args.findIndex((arg) => arg === '--workers' || arg.startsWith('--workers='));
  const workersFlag = flag === -1 ? undefined : args[flag]!.includes('=') ? args[flag]!.split('=')[1] : args[flag + 1];
  try {
    const config = loadConfig(workersFlag === undefined ? {} : { WORKERS: workersFlag });
    return { hashThreads: config.hashThreads, workers: config.workers };
  } catch {
    // An invalid configuration is reported by the command that loads it; size for the default here.
    return { hashThreads: availableParallelism(), workers: availableParallelism() };
  }
}

const { hashThreads, workers } = configured();
const inherited = Number.parseInt(process.env.UV_THREADPOOL_SIZE ?? '', 10) || 0;

/** True in the cluster primary of `gatehouse serve`, whose libuv pool is the machine's hashing pool. */
export const isHashingPrimary = cluster.isPrimary && process.argv[2] === 'serve' && workers > 1;

/** What every other process gets; the primary passes it to the workers it forks. */
export const processThreadpoolSize = Math.max(inherited, Math.min(hashThreads + LIBUV_DEFAULT_THREADS, MAX_THREADS));

// libuv reads this variable itself; config.ts stays the only reader of Gatehouse's settings.
process.env.UV_THREADPOOL_SIZE = String(isHashingPrimary ? hashThreads : processThreadpoolSize);
