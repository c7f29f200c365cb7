// A per-process read-through cache with a TTL and single flight: concurrent misses for one key share
// one load. It only ever serves as a fast path: every decision that must be exact (quotas,
// revocation) is re-checked by the database in the write that depends on it.

export interface CacheOptions<V> {
  name: string;
  ttlMs: number;
  maxEntries: number;
  load: (key: string) => Promise<V>;
  /** Called with hit (served from memory), load (queried the source) or shared (joined a load under way). */
  onLookup?: (outcome: 'hit' | 'load' | 'shared') => void;
  now?: () => number;
}

export class ReadThroughCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  private readonly inflight = new Map<string, Promise<V>>();
  private readonly now: () => number;
  /** Bumped by invalidation, so that a load that started before it does not store a stale value. */
  private generation = 0;

  constructor(private readonly options: CacheOptions<V>) {
    this.now = options.now ?? Date.now;
  }

  async get(key: string): Promise<V> {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > this.now()) {
      this.options.onLookup?.('hit');
      return entry.value;
    }
    const pending = this.inflight.get(key);
    if (pending) {
      this.options.onLookup?.('shared');
      return pending;
    }
    this.options.onLookup?.('load');
    const generation = this.generation;
    const load = this.options.load(key).then(
      (value) => {
        this.inflight.delete(key);
        if (generation === this.generation) this.store(key, value);
        return value;
      },
      (error: unknown) => {
        this.inflight.delete(key);
        throw error;
      },
    );
    this.inflight.set(key, load);
    return load;
  }

  invalidate(key: string): void {
    this.generation++;
    this.entries.delete(key);
    this.inflight.delete(key);
  }

  /** Forgets every entry (a change that concerns many keys, such as an organization's settings). */
  clear(): void {
    this.generation++;
    this.entries.clear();
    this.inflight.clear();
  }

  private store(key: string, value: V): void {
    if (this.entries.size >= this.options.maxEntries) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { value, expiresAt: this.now() + this.options.ttlMs });
  }
}
