// Redis for tests: the machine's server (REDIS_URL for tests, default 127.0.0.1:6379, database 15),
// with a key prefix of its own per test run so that runs never see each other's keys.
import { randomBytes } from 'node:crypto';

export const TEST_REDIS_URL = process.env.GATEHOUSE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/15';

export function uniquePrefix(label: string): string {
  return `gatehouse-test:${label}:${randomBytes(4).toString('hex')}:`;
}
