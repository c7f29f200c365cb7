// Password hashing: the runner's cap on computations at once, the hasher's behaviour, and the
// machine-wide pool that cluster workers share through the primary (real processes).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createHashRunner, createPasswordHasher, type HashTask } from '../src/security/password.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/cluster-hashing.ts', import.meta.url));
const THREADPOOL_FIXTURE = fileURLToPath(new URL('./fixtures/threadpool-size.ts', import.meta.url));

/** A compute function whose computations finish only when the test says so. */
function controlledCompute() {
  const started: Array<{ task: HashTask; finish: (result: string) => void }> = [];
  let running = 0;
  let maxRunning = 0;
  const compute = (task: HashTask) =>
    new Promise<string>((resolve) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      started.push({
        task,
        finish: (result) => {
          running--;
          resolve(result);
        },
      });
    });
  return { compute, started, maxRunning: () => maxRunning };
}

describe('hash runner', () => {
  test('runs at most `threads` computations at once, the rest in the order they came', async () => {
    const c = controlledCompute();
    const runner = createHashRunner(2, c.compute);
    const results = Array.from({ length: 5 }, (_, i) => runner.run({ op: 'hash', password: `p${i}` }));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(c.started.map((s) => s.task.password), ['p0', 'p1'], 'two start, three wait');
    c.started[1]!.finish('h1');
    await results[1];
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(c.started.map((s) => s.task.password), ['p0', 'p1', 'p2'], 'a finished computation lets the oldest waiting one start');
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      for (const s of c.started) s.finish(`h${s.task.password.slice(1)}`);
    }
    assert.deepEqual(await Promise.all(results), ['h0', 'h1', 'h2', 'h3', 'h4']);
    assert.equal(c.maxRunning(), 2);
  });

  test('a failed computation frees its place', async () => {
    let calls = 0;
    const runner = createHashRunner(1, async () => {
      calls++;
      if (calls === 1) throw new Error('boom');
      return 'ok';
    });
    await assert.rejects(runner.run({ op: 'hash', password: 'a' }), /boom/);
    assert.equal(await runner.run({ op: 'hash', password: 'b' }), 'ok');
  });
});

describe('password hasher', () => {
  const hasher = createPasswordHasher(2);

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
  test('two cluster workers hash and verify through the primary, whose one thread takes one computation at a time', async () => {
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
    // 2 workers × (3 hashes + 6 verifications), all on the primary, never two at once.
    assert.equal(primary.computed, 18);
    assert.equal(primary.maxRunning, 1);
  });

  test("the serve primary's libuv pool is exactly HASH_THREADS threads; every other process keeps four more for files and DNS", async () => {
    const sizeFor = async (args: string[], env: Record<string, string> = {}) => {
      const clean = { ...process.env };
      delete clean.UV_THREADPOOL_SIZE;
      delete clean.WORKERS;
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', THREADPOOL_FIXTURE, ...args], { env: { ...clean, HASH_THREADS: '3', ...env }, timeout: 30_000 });
      return JSON.parse(stdout) as { size: string; isHashingPrimary: boolean; processThreadpoolSize: number };
    };
    assert.deepEqual(await sizeFor(['serve', '--workers', '2']), { size: '3', isHashingPrimary: true, processThreadpoolSize: 7 });
    assert.deepEqual(await sizeFor(['serve', '--workers=4']), { size: '3', isHashingPrimary: true, processThreadpoolSize: 7 });
    assert.deepEqual(await sizeFor(['serve'], { WORKERS: '2' }), { size: '3', isHashingPrimary: true, processThreadpoolSize: 7 });
    // A single process hashes beside its own file and DNS work.
    assert.deepEqual(await sizeFor(['serve', '--workers', '1']), { size: '7', isHashingPrimary: false, processThreadpoolSize: 7 });
    assert.deepEqual(await sizeFor(['admin', 'create']), { size: '7', isHashingPrimary: false, processThreadpoolSize: 7 });
    // A larger size set by the operator is kept for everyone but the hashing primary.
    assert.deepEqual(await sizeFor(['serve', '--workers', '2'], { UV_THREADPOOL_SIZE: '16' }), { size: '3', isHashingPrimary: true, processThreadpoolSize: 16 });
    assert.deepEqual(await sizeFor(['worker'], { UV_THREADPOOL_SIZE: '16' }), { size: '16', isHashingPrimary: false, processThreadpoolSize: 16 });
  });
});
