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

/**
 * A failover can leave a connection open to the old primary, now a replica: a managed Redis moves its
 * address (DNS) to the promoted node without closing the old one's connections, so every write on
 * them answers READONLY for as long as they live. LOADING: a node still reading its data after a
 * restart. Both mean "this connection leads to the wrong place for now": reconnect (to wherever the
 * address or the sentinels lead now) and send the command again (ioredis: return 2).
 */
function reconnectOnError(error: Error): 2 | false {
  return /^(READONLY|LOADING)\b/.test(error.message) ? 2 : false;
}

/** A client for the target with these options (timeouts, retries, key prefix). */
export function connectRedis(target: RedisTarget, clientOptions: RedisOptions): Redis {
  const options: RedisOptions = { reconnectOnError, ...clientOptions };
  if (!('sentinels' in target)) return new Redis(target.url, options);
  const auth = target.url ? new URL(target.url) : undefined;
  return new Redis({
    ...options,
    sentinels: target.sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: target.name,
    // A primary that stops answering without closing its connections (a frozen or cut-off machine)
    // would hold them until its TCP times out: on the sentinels' +switch-master, leave it at once.
    failoverDetector: true,
    ...(auth?.username ? { username: decodeURIComponent(auth.username) } : {}),
    ...(auth?.password ? { password: decodeURIComponent(auth.password) } : {}),
    ...(auth && auth.pathname.length > 1 ? { db: Number(auth.pathname.slice(1)) } : {}),
    ...(auth?.protocol === 'rediss:' ? { tls: {}, enableTLSForSentinelMode: true } : {}),
    ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
  });
}
