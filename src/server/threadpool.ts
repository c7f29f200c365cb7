// Sizes libuv's thread pool for password hashing plus its usual work (file system, DNS), before any of
// it is used: the pool starts on first use with UV_THREADPOOL_SIZE threads (4 by default) and never
// grows, so with more hashing threads than that, hashes would silently wait for each other. Imported
// first by the command line, ahead of every module that might queue work on the pool.
import { availableParallelism } from 'node:os';
import { loadConfig } from '../config.js';

/** libuv's own default, left for file system and DNS work beside the hashing threads. */
const LIBUV_DEFAULT_THREADS = 4;

function configuredHashThreads(): number {
  try {
    return loadConfig().hashThreads;
  } catch {
    // An invalid configuration is reported by the command that loads it; size for the default here.
    return availableParallelism();
  }
}

const wanted = Math.min(configuredHashThreads() + LIBUV_DEFAULT_THREADS, 1024);
// libuv reads this variable itself; config.ts stays the only reader of Gatehouse's settings.
const current = Number.parseInt(process.env.UV_THREADPOOL_SIZE ?? '', 10) || 0;
if (current < wanted) process.env.UV_THREADPOOL_SIZE = String(wanted);
