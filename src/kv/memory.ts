// Single-process backend for tests and `--workers 1` debugging. Not shared across processes.
import type { Counter, KeyValueStore } from './store.js';

interface Entry {
  value: string;
  expiresAt: number;
}

export function createMemoryStore(now: () => number = Date.now): KeyValueStore {
  const entries = new Map<string, Entry>();

  function live(key: string): Entry | undefined {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  }

  return {
    backend: 'memory',
    // Its entries: what wrappers of one store (the metrics' instrumented one) have in common.
    native: entries,
    async put(key, value, ttlMs) {
      entries.set(key, { value, expiresAt: now() + ttlMs });
    },
    async get(key) {
      return live(key)?.value ?? null;
    },
    async takeOnce(key) {
      const entry = live(key);
      entries.delete(key);
      return entry?.value ?? null;
    },
    async delete(key) {
      entries.delete(key);
    },
    async increment(key, ttlMs): Promise<Counter> {
      const entry = live(key);
      const at = now();
      if (!entry) {
        entries.set(key, { value: '1', expiresAt: at + ttlMs });
        return { value: 1, ttlMs };
      }
      const value = Number(entry.value) + 1;
      entry.value = String(value);
      return { value, ttlMs: entry.expiresAt - at };
    },
    async ping() {},
    async close() {
      entries.clear();
    },
  };
}
