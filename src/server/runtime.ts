// Opens what one process needs: the durable database, the shared ephemeral store and the HMAC key.
// The PostgreSQL, Redis and BullMQ clients are imported only when configured: on the embedded default
// no process loads them (≈ 34 MiB of resident memory each).
import path from 'node:path';
import { storageDirectory, type Config } from '../config.js';
import { openSqlite, type Database } from '../db/database.js';
import { createSqliteStore } from '../kv/sqlite.js';
import type { KeyValueStore } from '../kv/store.js';
import { loadOrCreateSecret } from '../security/secret.js';
import { openTaskQueue } from '../tasks/open.js';
import type { TaskQueue } from '../tasks/types.js';

export interface Runtime {
  database: Database;
  kv: KeyValueStore;
  secret: string;
  tasks: TaskQueue;
  close(): Promise<void>;
}

export function kvFileFor(config: Config): string {
  return path.join(storageDirectory(config), 'gatehouse-kv.sqlite');
}

/** readReplica: use DATABASE_REPLICA_URL, if set, for lag-tolerant reads (only HTTP workers make any). */
export async function openDatabase(config: Config, options: { readReplica?: boolean } = {}): Promise<Database> {
  if (config.databaseDialect !== 'postgres') return openSqlite({ file: config.databaseUrl });
  const { openPostgres } = await import('../db/postgres.js');
  const database = openPostgres({ url: config.databaseUrl, poolSize: config.databasePoolSize });
  if (!config.databaseReplica || !options.readReplica) return database;
  const { withReadReplica } = await import('../db/replica.js');
  return withReadReplica(database, { ...config.databaseReplica, poolSize: config.databasePoolSize });
}

async function openKeyValueStore(config: Config): Promise<KeyValueStore> {
  if (!config.redis) return createSqliteStore({ file: kvFileFor(config) });
  const { createRedisStore } = await import('../kv/redis.js');
  return createRedisStore({ target: config.redis, keyPrefix: config.redisKeyPrefix });
}

export async function openRuntime(config: Config, options: { readReplica?: boolean } = {}): Promise<Runtime> {
  const secret = loadOrCreateSecret(config.secretKey, config.dataDir);
  const database = await openDatabase(config, options);
  const kv = await openKeyValueStore(config);
  const tasks = await openTaskQueue(config, database);
  return {
    database,
    kv,
    secret,
    tasks,
    async close() {
      await tasks.close().catch(() => undefined);
      await Promise.allSettled([database.close(), kv.close()]);
    },
  };
}
