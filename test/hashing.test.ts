// Password hashing: the runner's cap on computations at once, the hasher's behaviour, and the
// machine-wide pool that cluster workers share through the primary (real processes).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createThreadHashRunner } from '../src/security/hash-threads.js';
import { createPasswordHasher, type HashTask } from '../src/security/password.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/cluster-hashing.ts', import.meta.url));

/**
 * Code for the pool's threads in place of argon2: each computation blocks its thread for `ms` (as a
 * hash does), counts how many run at once in shared memory, and answers `password@threadId`.
 * A password `die` ends the thread; a password `fail` throws.
 */
const TEST_THREAD = `
const { parentPort, workerData, threadId } = require('node:worker_threads');
const counters = new Int32Array(workerData.options.shared);
parentPort.on('message', ({ id, task }) => {
  if (task.password === 'die') process.exit(1);
  if (task.password === 'fail') return parentPort.postMessage({ id, error: 'no luck' });
  const running = Atomics.add(counters, 0, 1) + 1;
  if (running > Atomics.load(counters, 1)) Atomics.store(counters, 1, running);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.options.ms);
  Atomics.sub(counters, 0, 1);
  parentPort.postMessage({ id, result: task.password + '@' + threadId });
});
`;

function testPool(threads: number, ms = 20) {
  const shared = new SharedArrayBuffer(8);
  const runner = createThreadHashRunner(threads, { shared, ms }, TEST_THREAD);
  return { runner, maxRunning: () => new Int32Array(shared)[1] };
}

const hashTask = (password: string): HashTask => ({ op: 'hash', password });

describe('hashing threads', () => {
  test('at most `threads` computations at once, on every thread, first come first served', async () => {
    const two = testPool(2);
    const results = (await Promise.all(Array.from({ length: 8 }, (_, i) => two.runner.run(hashTask(`p${i}`))))) as string[];
    assert.deepEqual(results.map((r) => r.split('@')[0]), ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7']);
    assert.equal(new Set(results.map((r) => r.split('@')[1])).size, 2, 'both threads computed');
    assert.equal(two.maxRunning(), 2);
    await two.runner.close();

    const one = testPool(1, 5);
    const order: string[] = [];
    await Promise.all(Array.from({ length: 5 }, (_, i) => one.runner.run(hashTask(`q${i}`)).then(() => order.push(`q${i}`))));
    assert.deepEqual(order, ['q0', 'q1', 'q2', 'q3', 'q4']);
    assert.equal(one.maxRunning(), 1);
    await one.runner.close();
  });

  test('a failed computation is reported and the thread goes on', async () => {
    const { runner } = testPool(1, 1);
    await assert.rejects(runner.run(hashTask('fail')), /password hashing failed: no luck/);
    assert.match((await runner.run(hashTask('after'))) as string, /^after@/);
    await runner.close();
  });

  test('a thread that dies fails only what it held, and a new thread takes its place', async () => {
    const { runner } = testPool(1, 30);
    const outcomes = await Promise.allSettled(['a', 'die', 'b', 'c', 'd'].map((p) => runner.run(hashTask(p))));
    const [a, die, b, c, d] = outcomes;
    assert.equal(a!.status, 'fulfilled');
    assert.equal(die!.status, 'rejected');
    assert.match(String((die as PromiseRejectedResult).reason), /thread exited/);
    // `b` was already queued in the dying thread; `c` and `d` were still waiting and run on its successor.
    assert.equal(b!.status, 'rejected');
    const first = String((a as PromiseFulfilledResult<string>).value).split('@')[1];
    for (const later of [c, d]) {
      assert.equal(later!.status, 'fulfilled');
      assert.notEqual(String((later as PromiseFulfilledResult<string>).value).split('@')[1], first, 'a new thread');
    }
    await runner.close();
  });

  test('close() rejects what is still waiting and every later computation', async () => {
    const { runner } = testPool(1, 50);
    const settled = Promise.allSettled(Array.from({ length: 4 }, (_, i) => runner.run(hashTask(`w${i}`))));
    await new Promise((resolve) => setTimeout(resolve, 10));
    await runner.close();
    assert.ok((await settled).every((s) => s.status === 'rejected'));
    await assert.rejects(runner.run(hashTask('late')), /closed/);
  });
});

describe('password hasher', () => {
  const hasher = createPasswordHasher(2);
  after(() => hasher.close());

  test('argon2id with the service parameters; verify accepts the password and nothing else', async () => {
    const stored = await hasher.hash('correct horse battery');
    assert.match(stored, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.equal(await hasher.verify(stored, 'correct horse battery'), true);
    assert.equal(await hasher.verify(stored, 'correct horse batterY'), false);
  });

  test('passwords are compared in NFKC form (full-width and composed characters match their plain forms)', async () => {
    const stored = await hasher.hash('ｐａｓｓ ｗｏｒｄ Ǆ');
    assert.equal(await hasher.verify(stored, 'pass word DŽ'), true);
  });

  test('a malformed stored hash is a mismatch, not an error; an unknown account verifies against a dummy', async () => {
    assert.equal(await hasher.verify('not a hash', 'anything'), false);
    assert.equal(await hasher.verifyAgainstDummy('anything'), false);
  });
});

describe('one hashing pool per machine', () => {
  test('two cluster workers hash and verify through the primary, whose one thread computes them all', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', FIXTURE], { timeout: 60_000 });
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line));
    const workers = lines.filter((l) => l.type === 'done');
    const primary = lines.find((l) => l.type === 'primary');
    assert.equal(workers.length, 2);
    assert.notEqual(workers[0].pid, workers[1].pid);
    for (const worker of workers) {
      assert.deepEqual(worker.right, [true, true, true]);
      assert.deepEqual(worker.wrong, [false, false, false]);
      for (const format of worker.formats) assert.match(format, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    }
    // 2 workers × (3 hashes + 6 verifications), all on the primary.
    assert.equal(primary.computed, 18);
  });
});
