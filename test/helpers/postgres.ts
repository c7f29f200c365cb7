// A fresh PostgreSQL database per test file on the machine's server (trust auth on 127.0.0.1:5432;
// GATEHOUSE_TEST_POSTGRES_URL points elsewhere), dropped afterwards.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import pg from 'pg';
import { openSqlite, type Database } from '../../src/db/database.js';
import { openPostgres } from '../../src/db/postgres.js';
import type { Need } from './requirements.js';

export const POSTGRES_ADMIN_URL = process.env.GATEHOUSE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ADMIN_URL = POSTGRES_ADMIN_URL;

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `gatehouse_test_${label}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/**
 * The durable store on both of its backends, for a test that runs the same cases on each: a SQLite
 * file in a temporary folder (removed after the file's tests), and a fresh PostgreSQL database
 * (dropped at close), which needs a PostgreSQL server (`needs`).
 */
export function bothBackends(label: string): Array<{ name: string; needs?: Need[]; open(): Promise<{ database: Database; close(): Promise<void> }> }> {
  const dir = mkdtempSync(path.join(tmpdir(), `gatehouse-${label}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return [
    {
      name: 'SQLite',
      async open() {
        const database = openSqlite({ file: path.join(dir, `${label}.sqlite`) });
        return { database, close: () => database.close() };
      },
    },
    {
      name: 'PostgreSQL',
      needs: ['postgres'],
      async open() {
        const testDb = await createTestDatabase(label);
        const database = openPostgres({ url: testDb.url, poolSize: 4 });
        return {
          database,
          async close() {
            await database.close();
            await testDb.drop();
          },
        };
      },
    },
  ];
}
