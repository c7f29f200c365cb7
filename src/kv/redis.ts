// Scale-out backend: Redis, shared by every worker of every server. take-once is GETDEL, a single
// atomic command; a counter's increment and its expiry are one Lua script.
import { AppError } from '../errors.js';
import { connectRedis, type RedisTarget } from './redis-connection.js';
import type { Counter, KeyValueStore } from './store.js';

export interface RedisStoreOptions {
  target: RedisTarget;
  /** Prepended to every key, so that several deployments (or test runs) can share one Redis. */
  keyPrefix?: string;
  /** A command that has no answer by then fails with 503 instead of hanging. */
  commandTimeoutMs?: number;
}

const INCREMENT = `
local value = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {value, ttl}`;

const READINESS_KEY = 'readyz';

export function createRedisStore(options: RedisStoreOptions): KeyValueStore {
  const timeoutMs = options.commandTimeoutMs ?? 5_000;
  const client = connectRedis(options.target, {
    keyPrefix: options.keyPrefix ?? 'gatehouse:',
    commandTimeout: timeoutMs,
    // Commands wait for a (re)connection at most one retry long; call() bounds them in any case.
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(50 * attempt, 1_000),
    lazyConnect: false,
  });
  // Connection errors surface on the commands that fail; the event would otherwise crash the process.
  client.on('error', () => undefined);
  client.defineCommand('gatehouseIncrement', { numberOfKeys: 1, lua: INCREMENT });

  // Every command answers within timeoutMs: with Redis's answer, or with 503 STORE_UNAVAILABLE.
  async function call<T>(fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        fn(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer from Redis within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (error) {
      throw new AppError('STORE_UNAVAILABLE', { retryAfterSeconds: 1, cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    backend: 'redis',
    native: client,
    async put(key, value, ttlMs) {
      await call(() => client.set(key, value, 'PX', Math.max(1, Math.round(ttlMs))));
    },
    get: (key) => call(() => client.get(key)),
    takeOnce: (key) => call(() => client.getdel(key)),
    async delete(key) {
      await call(() => client.del(key));
    },
    async increment(key, ttlMs): Promise<Counter> {
      const [value, ttl] = (await call(() =>
        (client as unknown as { gatehouseIncrement(key: string, ttl: number): Promise<[number, number]> }).gatehouseIncrement(key, Math.max(1, Math.round(ttlMs))),
      )) as [number, number];
      return { value: Number(value), ttlMs: Number(ttl) };
    },
    async ping() {
      // A write, not PING: an address that leads to a replica (a stale DNS name, a misconfiguration)
      // answers PING but refuses every write the service makes, so it must not count as ready.
      await call(() => client.set(READINESS_KEY, '1', 'PX', 60_000));
    },
    async close() {
      client.disconnect();
    },
  };
}
