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
import type { AppError } from '../../src/errors.js';
import { KnownDevices } from '../../src/security/known-devices.js';
import { Lockout } from '../../src/security/lockout.js';
import type { KeyValueStore } from '../../src/kv/store.js';
import { TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { unmet } from '../helpers/requirements.js';

const SECRET = 'a test secret key, long enough for an HMAC';
const LOCKOUT = { maxFailures: 3, windowSeconds: 60, lockSeconds: 120, knownDeviceSeconds: 10, maxLockSeconds: 300 };

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
      const lockout = new Lockout(kv, LOCKOUT, new KnownDevices(SECRET));
      const account = `+86139${Math.floor(Math.random() * 1e8)}`;
      const strangers = lockout.counter(account, {});
      assert.deepEqual(await lockout.status(account), { failures: 0, lockedForMs: 0 });
      await assert.rejects(strangers.recordFailure(), { code: 'INVALID_CREDENTIALS' });
      assert.deepEqual(await lockout.status(account), { failures: 1, lockedForMs: 0 });
      await assert.rejects(strangers.recordFailure(), { code: 'INVALID_CREDENTIALS' });
      await assert.rejects(strangers.recordFailure(), { code: 'ACCOUNT_LOCKED' });
      const locked = await lockout.status(account);
      assert.equal(locked.failures, 3);
      assert.ok(locked.lockedForMs > 110_000 && locked.lockedForMs <= 120_000, `locked for lockSeconds, not ${locked.lockedForMs} ms`);
      await lockout.reset(account);
      assert.deepEqual(await lockout.status(account), { failures: 0, lockedForMs: 0 });
    });

    it("a lockout's backoff: each further lock twice as long, up to the longest; forgotten by a reset, kept by a sign-in", async () => {
      const { kv } = backend.open();
      await kv.ping();
      const lockout = new Lockout(kv, LOCKOUT, new KnownDevices(SECRET));
      const account = `+86139${Math.floor(Math.random() * 1e8)}`;
      const strangers = lockout.counter(account, {});
      const lockFor = async () => {
        for (let i = 0; i < LOCKOUT.maxFailures - 1; i++) await assert.rejects(strangers.recordFailure(), { code: 'INVALID_CREDENTIALS' });
        const error = await strangers.recordFailure().catch((e: AppError) => e);
        assert.equal(error.code, 'ACCOUNT_LOCKED');
        return error.retryAfterSeconds;
      };
      assert.equal(await lockFor(), 120);
      // The owner signs in (which lifts the lock); the next lock is still the longer one.
      await strangers.succeeded();
      assert.deepEqual(await lockout.status(account), { failures: 0, lockedForMs: 0 });
      assert.equal(await lockFor(), 240);
      await strangers.succeeded();
      assert.equal(await lockFor(), 300, 'no longer than maxLockSeconds');
      await lockout.reset(account);
      assert.equal(await lockFor(), 120, 'an administrator\'s unlock forgets the backoff');
    });

    it("a known device counts on its own: strangers' lock does not reach it, nor its failures theirs", async () => {
      const { kv } = backend.open();
      await kv.ping();
      const devices = new KnownDevices(SECRET);
      const lockout = new Lockout(kv, LOCKOUT, devices);
      const account = `+86139${Math.floor(Math.random() * 1e8)}`;
      const owner = { deviceCookie: devices.remember(account, undefined) };
      const strangers = lockout.counter(account, {});
      for (let i = 0; i < LOCKOUT.maxFailures; i++) await strangers.recordFailure().catch(() => undefined);
      await assert.rejects(strangers.assertNotLocked(), { code: 'ACCOUNT_LOCKED' });

      const device = lockout.counter(account, owner);
      assert.equal(device.ownCount, true);
      await device.assertNotLocked();
      await assert.rejects(device.recordFailure(), (e: AppError) => e.code === 'INVALID_CREDENTIALS' && e.details?.attempts_left === 2);
      await assert.rejects(device.recordFailure(), (e: AppError) => e.code === 'INVALID_CREDENTIALS' && e.details?.attempts_left === 1);
      await assert.rejects(device.recordFailure(), (e: AppError) => e.code === 'ACCOUNT_LOCKED' && e.retryAfterSeconds === LOCKOUT.knownDeviceSeconds);
      assert.equal((await lockout.status(account)).failures, 3, "the device's failures are not the strangers'");
      // Another account's device, or a cookie of another key, is a stranger here.
      assert.equal(lockout.counter(account, { deviceCookie: devices.remember('+8613900000000', undefined) }).ownCount, false);
      assert.equal(lockout.counter(account, { deviceCookie: new KnownDevices('another secret key').remember(account, undefined) }).ownCount, false);
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
