// One contract for the shared ephemeral store, run against every backend.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createMemoryStore } from '../src/kv/memory.js';
import { createSqliteStore } from '../src/kv/sqlite.js';
import type { KeyValueStore } from '../src/kv/store.js';

interface Backend {
  name: string;
  /** A store whose clock the test moves. */
  open(clock: () => number): KeyValueStore;
  /** A second store on the same data, as another process would open it. */
  openSibling?(clock: () => number): KeyValueStore;
  cleanup(): void;
}

const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-kv-'));
let fileCounter = 0;
let currentFile = '';
const backends: Backend[] = [
  { name: 'memory', open: (clock) => createMemoryStore(clock), cleanup() {} },
  {
    name: 'sqlite',
    open(clock) {
      currentFile = path.join(dir, `kv-${++fileCounter}.sqlite`);
      return createSqliteStore({ file: currentFile, now: clock });
    },
    openSibling: (clock) => createSqliteStore({ file: currentFile, now: clock }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  },
];

for (const backend of backends) {
  describe(`kv contract: ${backend.name}`, () => {
    let now = 1_000_000;
    const clock = () => now;
    after(() => backend.cleanup());

    it('put/get/delete, and put replaces', async () => {
      const kv = backend.open(clock);
      assert.equal(await kv.get('a'), null);
      await kv.put('a', 'one', 1000);
      assert.equal(await kv.get('a'), 'one');
      await kv.put('a', 'two', 1000);
      assert.equal(await kv.get('a'), 'two');
      await kv.delete('a');
      assert.equal(await kv.get('a'), null);
      await kv.delete('never-there');
      await kv.close();
    });

    it('entries expire at their TTL', async () => {
      const kv = backend.open(clock);
      await kv.put('e', 'v', 500);
      now += 499;
      assert.equal(await kv.get('e'), 'v');
      now += 1;
      assert.equal(await kv.get('e'), null);
      assert.equal(await kv.takeOnce('e'), null);
      await kv.close();
    });

    it('takeOnce returns the value once, then null', async () => {
      const kv = backend.open(clock);
      await kv.put('t', 'secret', 1000);
      assert.equal(await kv.takeOnce('t'), 'secret');
      assert.equal(await kv.takeOnce('t'), null);
      assert.equal(await kv.get('t'), null);
      await kv.close();
    });

    it('increment counts within a window and restarts after it', async () => {
      const kv = backend.open(clock);
      assert.deepEqual(await kv.increment('c', 1000), { value: 1, ttlMs: 1000 });
      now += 400;
      assert.deepEqual(await kv.increment('c', 1000), { value: 2, ttlMs: 600 });
      assert.equal((await kv.increment('c', 1000)).value, 3);
      now += 600;
      assert.deepEqual(await kv.increment('c', 1000), { value: 1, ttlMs: 1000 });
      await kv.close();
    });

    it('keys are independent and may hold any text', async () => {
      const kv = backend.open(clock);
      const odd = 'ключ:🙂:\'"; DROP TABLE kv; --';
      await kv.put(odd, 'ünïcödé 🙂', 1000);
      await kv.put('other', 'x', 1000);
      assert.equal(await kv.get(odd), 'ünïcödé 🙂');
      assert.equal(await kv.takeOnce('other'), 'x');
      assert.equal(await kv.get(odd), 'ünïcödé 🙂');
      await kv.close();
    });

    if (backend.openSibling) {
      it('two connections (as two processes would have) see each other at once; take-once holds across them', async () => {
        const a = backend.open(clock);
        const b = backend.openSibling!(clock);
        await a.put('shared', 'v', 1000);
        assert.equal(await b.get('shared'), 'v');
        const taken = await Promise.all([a.takeOnce('shared'), b.takeOnce('shared'), a.takeOnce('shared'), b.takeOnce('shared')]);
        assert.deepEqual(taken.filter((v) => v !== null), ['v']);
        await a.increment('n', 1000);
        assert.equal((await b.increment('n', 1000)).value, 2);
        await a.close();
        await b.close();
      });
    }
  });
}
