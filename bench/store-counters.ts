// Round trips to the scale-out stores, read from the servers' own statistics: Redis's count of
// commands processed, PostgreSQL's count of committed transactions in the benchmark's database.
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { TEST_REDIS_URL } from '../test/helpers/redis.js';

export async function scaleOutCounters(databaseUrl: string): Promise<{ redis: number; postgres: number }> {
  const redisUrl = new URL(TEST_REDIS_URL);
  const info = execFileSync('redis-cli', ['-h', redisUrl.hostname, '-p', redisUrl.port || '6379', 'INFO', 'stats'], { encoding: 'utf8' });
  const redis = Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? NaN);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // Statistics are flushed by backends at transaction end; ask for a fresh snapshot.
    await client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await client.query('SELECT xact_commit::bigint AS n FROM pg_stat_database WHERE datname = current_database()');
    // The benchmark takes the difference of two readings; the readings' own few commands are noise
    // beside hundreds of registrations.
    return { redis, postgres: Number(rows[0].n) };
  } finally {
    await client.end();
  }
}
