// One password-hashing pool per machine: the cluster primary owns the hashing threads and every HTTP
// worker sends its argon2 work there over the cluster's IPC channel. With a pool per worker, the
// connections a worker happened to receive decided how much hashing it had, and at the end of a burst
// one worker's threads sat idle while the other's still had a queue; one shared queue keeps every
// core hashing until the last password is done. A message is a few hundred bytes; a hash is ~10 ms.
import cluster from 'node:cluster';
import type { HashRunner, HashTask } from '../security/password.js';

const REQUEST = 'gatehouse:hash';
const RESULT = 'gatehouse:hash-result';

interface HashRequest {
  type: typeof REQUEST;
  id: number;
  task: HashTask;
}

interface HashResult {
  type: typeof RESULT;
  id: number;
  result?: string | boolean;
  error?: string;
}

/** Primary: runs the workers' hashing on one runner, the machine's pool. */
export function serveClusterHashing(runner: HashRunner): void {
  cluster.on('message', (worker, message: HashRequest) => {
    if (message?.type !== REQUEST) return;
    const reply = (outcome: Omit<HashResult, 'type' | 'id'>) => {
      // A worker that died meanwhile has nobody waiting for the answer.
      if (worker.isConnected()) worker.send({ type: RESULT, id: message.id, ...outcome } satisfies HashResult);
    };
    runner.run(message.task).then(
      (result) => reply({ result }),
      (error: Error) => reply({ error: error.message }),
    );
  });
}

/** Worker: a hash runner that hands each computation to the primary's pool. */
export function clusterHashRunner(): HashRunner {
  const pending = new Map<number, { resolve: (result: string | boolean) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  const onMessage = (message: HashResult) => {
    if (message?.type !== RESULT) return;
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error !== undefined) waiter.reject(new Error(`password hashing failed: ${message.error}`));
    else waiter.resolve(message.result!);
  };
  // No answer can be lost to a dead primary: node:cluster ends a worker whose primary is gone.
  process.on('message', onMessage);
  return {
    run(task) {
      if (!process.connected || !process.send) return Promise.reject(new Error('the cluster primary is gone'));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        process.send!({ type: REQUEST, id, task } satisfies HashRequest);
      });
    },
  };
}
