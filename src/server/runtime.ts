// Opens what one process needs: the durable database, the shared ephemeral store and the HMAC key.
import path from 'node:path';
import type { Config } from '../config.js';
import { openSqlite, type Database } from '../db/database.js';
import { openPostgres } from '../db/postgres.js';
import { createRedisStore } from '../kv/redis.js';
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
  const dir = config.databaseDialect === 'sqlite' ? path.dirname(config.databaseUrl) : config.dataDir;
  return path.join(dir, 'gatehouse-kv.sqlite');
}

export function openDatabase(config: Config): Database {
  return config.databaseDialect === 'postgres'
    ? openPostgres({ url: config.databaseUrl, poolSize: config.databasePoolSize })
    : openSqlite({ file: config.databaseUrl });
}

export function openRuntime(config: Config): Runtime {
  const secret = loadOrCreateSecret(config.secretKey, config.dataDir);
  const database = openDatabase(config);
  const kv = config.redisUrl ? createRedisStore({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix }) : createSqliteStore({ file: kvFileFor(config) });
  const tasks = openTaskQueue(config, database);
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
