// The password-hashing pool: `threads` worker threads, each computing argon2id synchronously
// (@node-rs/argon2's hashSync/verifySync, the same Rust code as its async functions) from its own
// inbox. Each thread holds up to two computations: the one it runs and the next, already in its
// message queue, so that a thread goes from one hash to the next without waiting for this event loop
// (which may be busy relaying other work). The rest wait here, first come first served.
//
// Why threads of our own rather than libuv's pool (where @node-rs/argon2's async functions run):
// libuv's pool size is fixed when the pool starts, and an ES module program starts it (the module
// loader reads files through it) before any of its code runs, so the pool cannot be sized to
// HASH_THREADS from inside the program; and capping libuv's work in JavaScript makes every thread wait
// for the event loop between two hashes (~10 % of a burst lost on a 2-core machine, docs/benchmarks.md).
// argon2id is memory-hard: more computations at once than cores only thrash the caches, so the number
// of threads is the cap, and no more than `threads` computations ever run at once.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { HashRunner, HashTask } from './password.js';

/** Computations a thread holds at once: the running one and the next in its queue. */
const PER_THREAD = 2;

// CommonJS, evaluated in the thread: it needs nothing but @node-rs/argon2, and so runs the same from
// the compiled build and from the TypeScript sources.
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { hashSync, verifySync } = require(workerData.argon2);
const verifyOrFalse = (stored, password) => {
  try {
    return verifySync(stored, password, workerData.options);
  } catch {
    return false; // a malformed stored hash is a mismatch, not an error
  }
};
parentPort.on('message', ({ id, task }) => {
  try {
    const result = task.op === 'hash' ? hashSync(task.password, workerData.options) : verifyOrFalse(task.hash, task.password);
    parentPort.postMessage({ id, result });
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
`;

interface Job {
  id: number;
  task: HashTask;
  resolve(result: string | boolean): void;
  reject(error: Error): void;
}

interface Thread {
  worker: Worker;
  /** Jobs sent to this thread and not answered yet, by id. */
  held: Map<number, Job>;
}

export interface ThreadHashRunner extends HashRunner {
  /** Ends the threads; computations not finished are rejected. */
  close(): Promise<void>;
}

/**
 * A pool of `threads` hashing threads, started on first use. `options` are argon2's parameters;
 * `source` is the code each thread runs (tests pass their own).
 */
export function createThreadHashRunner(threads: number, options: object, source: string = THREAD_SOURCE): ThreadHashRunner {
  const argon2 = createRequire(import.meta.url).resolve('@node-rs/argon2');
  const waiting: Job[] = [];
  const pool: Thread[] = [];
  let nextId = 0;
  let closed = false;

  function start(): Thread {
    const thread: Thread = { worker: new Worker(source, { eval: true, workerData: { argon2, options } }), held: new Map() };
    thread.worker.on('message', (message: { id: number; result?: string | boolean; error?: string }) => {
      const job = thread.held.get(message.id);
      if (!job) return;
      thread.held.delete(message.id);
      if (message.error !== undefined) job.reject(new Error(`password hashing failed: ${message.error}`));
      else job.resolve(message.result!);
      dispatch();
    });
    // A thread that dies takes its held jobs with it (a job that killed one thread is not retried on
    // the next); a new thread takes its place.
    let failure = '';
    thread.worker.on('error', (error) => (failure = `: ${error.message}`));
    thread.worker.on('exit', () => {
      pool.splice(pool.indexOf(thread), 1);
      for (const job of thread.held.values()) job.reject(new Error(`a password-hashing thread exited${failure}`));
      thread.held.clear();
      if (!closed) dispatch();
    });
    thread.worker.unref();
    pool.push(thread);
    return thread;
  }

  function dispatch(): void {
    while (pool.length < threads && waiting.length > 0) start();
    // Every thread gets a job to run before any gets a second one to queue.
    for (let depth = 1; depth <= PER_THREAD; depth++) {
      for (const thread of pool) {
        if (thread.held.size >= depth || waiting.length === 0) continue;
        const job = waiting.shift()!;
        thread.held.set(job.id, job);
        thread.worker.postMessage({ id: job.id, task: job.task });
      }
    }
    // A thread with work keeps the process alive until its answers are in; an idle one does not.
    for (const thread of pool) {
      if (thread.held.size > 0) thread.worker.ref();
      else thread.worker.unref();
    }
  }

  return {
    run(task) {
      if (closed) return Promise.reject(new Error('the password-hashing pool is closed'));
      return new Promise((resolve, reject) => {
        waiting.push({ id: nextId++, task, resolve, reject });
        dispatch();
      });
    },
    async close() {
      closed = true;
      for (const job of waiting.splice(0)) job.reject(new Error('the password-hashing pool is closed'));
      await Promise.all(pool.map((thread) => thread.worker.terminate()));
    },
  };
}
