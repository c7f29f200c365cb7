// Where Redis is, and a client for it: one address (REDIS_URL), or a Sentinel-managed primary
// (REDIS_SENTINELS), which ioredis finds by asking the sentinels and finds again after a failover.
import { Redis, type RedisOptions } from 'ioredis';

export type RedisTarget =
  | { readonly url: string }
  | {
      readonly sentinels: ReadonlyArray<{ readonly host: string; readonly port: number }>;
      /** The name the sentinels monitor the primary under. */
      readonly name: string;
      /** Optional redis:// URL whose credentials, database number and TLS (rediss://) apply to the primary; its host is ignored. */
      readonly url?: string;
      readonly sentinelPassword?: string;
    };

/** A client for the target with these options (timeouts, retries, key prefix). */
export function connectRedis(target: RedisTarget, options: RedisOptions): Redis {
  if (!('sentinels' in target)) return new Redis(target.url, options);
  const auth = target.url ? new URL(target.url) : undefined;
  return new Redis({
    ...options,
    sentinels: target.sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: target.name,
    ...(auth?.username ? { username: decodeURIComponent(auth.username) } : {}),
    ...(auth?.password ? { password: decodeURIComponent(auth.password) } : {}),
    ...(auth && auth.pathname.length > 1 ? { db: Number(auth.pathname.slice(1)) } : {}),
    ...(auth?.protocol === 'rediss:' ? { tls: {}, enableTLSForSentinelMode: true } : {}),
    ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
  });
}
