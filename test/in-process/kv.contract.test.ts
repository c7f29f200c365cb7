// One contract for the shared ephemeral store, run against every backend.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { createMemoryStore } from '../../src/kv/memory.js';
import { createRedisStore } from '../../src/kv/redis.js';
import { createSqliteStore } from '../../src/kv/sqlite.js';
import { Lockout } from '../../src/security/lockout.js';
import type { KeyValueStore } from '../../src/kv/store.js';
import { TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { unmet } from '../helpers/requirements.js';

interface Backend {
  name: string;
  /** A fresh store, and a way to let `ms` pass for it (a fake clock, or real time for Redis). */
  open(): { kv: KeyValueStore; advance(ms: number): Promise<void> };
  /** A second store on the same data, as another process would open it. */
  openSibling(): KeyValueStore;
  cleanup(): void;
}

function fakeClock() {
  let now = 1_000_000;
  return { clock: () => now, advance: async (ms: number) => void (now += ms) };
}

const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-kv-'));
let fileCounter = 0;

function sqliteBackend(): Backend {
  let file = '';
  let clock = fakeClock();
  return {
    name: 'sqlite',
    open() {
      file = path.join(dir, `kv-${++fileCounter}.sqlite`);
      clock = fakeClock();
      return { kv: createSqliteStore({ file, now: clock.clock }), advance: clock.advance };
    },
    openSibling: () => createSqliteStore({ file, now: clock.clock }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function memoryBackend(): Backend {
  let shared: KeyValueStore | undefined;
  return {
    name: 'memory',
    open() {
      const clock = fakeClock();
      shared = createMemoryStore(clock.clock);
      return { kv: shared, advance: clock.advance };
    },
    // One process only: its "sibling" is itself.
    openSibling: () => shared!,
    cleanup() {},
  };
}

function redisBackend(): Backend {
  let prefix = '';
  return {
    name: 'redis',
    open() {
      prefix = uniquePrefix('kv');
      return { kv: createRedisStore({ target: { url: TEST_REDIS_URL }, keyPrefix: prefix }), advance: (ms) => sleep(ms) };
    },
    openSibling: () => createRedisStore({ target: { url: TEST_REDIS_URL }, keyPrefix: prefix }),
    cleanup() {},
  };
}

for (const backend of [memoryBackend(), sqliteBackend(), redisBackend()]) {
  describe(`kv contract: ${backend.name}`, { skip: backend.name === 'redis' ? await unmet('redis') : false }, () => {
    // Stores are closed here too, so that a failed assertion leaves no connection open.
    const opened: KeyValueStore[] = [];
    const open = backend.open.bind(backend);
    const openSibling = backend.openSibling.bind(backend);
    backend.open = () => {
      const store = open();
      opened.push(store.kv);
      return store;
    };
    backend.openSibling = () => {
      const store = openSibling();
      opened.push(store);
      return store;
    };
    after(async () => {
      await Promise.allSettled(opened.map((kv) => kv.close()));
      backend.cleanup();
    });

    it('put/get/delete, and put replaces', async () => {
      const { kv } = backend.open();
      assert.equal(await kv.get('a'), null);
      await kv.put('a', 'one', 10_000);
      assert.equal(await kv.get('a'), 'one');
      await kv.put('a', 'two', 10_000);
      assert.equal(await kv.get('a'), 'two');
      await kv.delete('a');
      assert.equal(await kv.get('a'), null);
      await kv.delete('never-there');
      await kv.close();
    });

    it('entries expire at their TTL', async () => {
      const { kv, advance } = backend.open();
      await kv.put('e', 'v', 400);
      await advance(100);
      assert.equal(await kv.get('e'), 'v');
      await advance(400);
      assert.equal(await kv.get('e'), null);
      assert.equal(await kv.takeOnce('e'), null);
      await kv.close();
    });

    it('takeOnce returns the value once, then null', async () => {
      const { kv } = backend.open();
      await kv.put('t', 'secret', 10_000);
      assert.equal(await kv.takeOnce('t'), 'secret');
      assert.equal(await kv.takeOnce('t'), null);
      assert.equal(await kv.get('t'), null);
      await kv.close();
    });

    it('increment counts within a window and restarts after it', async () => {
      const { kv, advance } = backend.open();
      const first = await kv.increment('c', 400);
      assert.equal(first.value, 1);
      assert.ok(first.ttlMs > 300 && first.ttlMs <= 400, `ttl ${first.ttlMs}`);
      await advance(100);
      const second = await kv.increment('c', 400);
      assert.equal(second.value, 2);
      assert.ok(second.ttlMs <= 300 && second.ttlMs > 100, `the window does not restart: ttl ${second.ttlMs}`);
      assert.equal((await kv.increment('c', 400)).value, 3);
      await advance(400);
      assert.equal((await kv.increment('c', 400)).value, 1);
      await kv.close();
    });

    it('keys are independent and may hold any text', async () => {
      const { kv } = backend.open();
      const odd = 'ключ:🙂:\'"; DROP TABLE kv; --';
      await kv.put(odd, 'ünïcödé 🙂', 10_000);
      await kv.put('other', 'x', 10_000);
      assert.equal(await kv.get(odd), 'ünïcödé 🙂');
      assert.equal(await kv.takeOnce('other'), 'x');
      assert.equal(await kv.get(odd), 'ünïcödé 🙂');
      await kv.close();
    });

    it("a lockout's status: failures counted, the lock's remaining time after the Nth, nothing after a reset", async () => {
      const { kv } = backend.open();
      await kv.ping(); // the rate limiter refuses a Redis connection that is not ready yet (fail closed)
      const lockout = new Lockout(kv, { maxFailures: 3, windowSeconds: 60, lockSeconds: 120 });
      const account = `+86139${Math.floor(Math.random() * 1e8)}`;
      assert.deepEqual(await lockout.status(account), { failures: 0, lockedForMs: 0 });
      await assert.rejects(lockout.recordFailure(account), { code: 'INVALID_CREDENTIALS' });
      assert.deepEqual(await lockout.status(account), { failures: 1, lockedForMs: 0 });
      await assert.rejects(lockout.recordFailure(account), { code: 'INVALID_CREDENTIALS' });
      await assert.rejects(lockout.recordFailure(account), { code: 'ACCOUNT_LOCKED' });
      const locked = await lockout.status(account);
      assert.equal(locked.failures, 3);
      assert.ok(locked.lockedForMs > 110_000 && locked.lockedForMs <= 120_000, `locked for lockSeconds, not ${locked.lockedForMs} ms`);
      await lockout.reset(account);
      assert.deepEqual(await lockout.status(account), { failures: 0, lockedForMs: 0 });
    });

    it('two connections (as two processes would have) see each other at once; take-once holds across them', async () => {
      const { kv: a } = backend.open();
      const b = backend.openSibling();
      for (let round = 0; round < 20; round++) {
        await a.put(`shared${round}`, 'v', 10_000);
        assert.equal(await b.get(`shared${round}`), 'v');
        const taken = await Promise.all([a.takeOnce(`shared${round}`), b.takeOnce(`shared${round}`), a.takeOnce(`shared${round}`), b.takeOnce(`shared${round}`)]);
        assert.deepEqual(taken.filter((v) => v !== null), ['v']);
      }
      await a.increment('n', 10_000);
      assert.equal((await b.increment('n', 10_000)).value, 2);
      await a.close();
      if (b !== a) await b.close();
    });
  });
}
