// Sizes libuv's thread pool for password hashing plus its usual work (file system, DNS), before any of
// it is used: the pool starts on first use with UV_THREADPOOL_SIZE threads (4 by default) and never
// grows, so with more hashing threads than that, hashes would silently wait for each other. Imported
// first by the command line, ahead of every module that might queue work on the pool.
import { availableParallelism } from 'node:os';

/** libuv's own default, left for file system and DNS work beside the hashing threads. */
const LIBUV_DEFAULT_THREADS = 4;

const hashThreads = Number.parseInt(process.env.HASH_THREADS ?? '', 10) || availableParallelism();
const wanted = hashThreads + LIBUV_DEFAULT_THREADS;
const current = Number.parseInt(process.env.UV_THREADPOOL_SIZE ?? '', 10) || 0;
if (current < wanted) process.env.UV_THREADPOOL_SIZE = String(Math.min(wanted, 1024));
