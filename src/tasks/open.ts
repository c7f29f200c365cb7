// Picks the queue backend from config alone: BullMQ when Redis is configured, else the table in the
// durable store (SQLite or PostgreSQL).
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import { backoffDelayMs } from './backoff.js';
import { createSqlQueue } from './sql-queue.js';
import type { TaskQueue } from './types.js';

export async function openTaskQueue(config: Config, database: Database): Promise<TaskQueue> {
  if (config.redis) {
    // Imported only when configured: the embedded default never loads BullMQ and ioredis.
    const { createBullmqQueue } = await import('./bullmq-queue.js');
    return createBullmqQueue({ redis: config.redis, prefix: `${config.redisKeyPrefix.replace(/:+$/, '')}:bull`, leaseMs: config.tasks.leaseMs });
  }
  return createSqlQueue(database, { leaseMs: config.tasks.leaseMs, pollMs: config.tasks.pollMs });
}

export function backoffFor(config: Config): (attemptsMade: number) => number {
  const policy = { baseMs: config.tasks.backoffBaseMs, maxMs: config.tasks.backoffMaxMs };
  return (attemptsMade) => backoffDelayMs(policy, attemptsMade);
}
