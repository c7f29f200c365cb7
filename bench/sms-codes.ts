// Registration codes for `bench:burst --sms`: requested the way the registration page requests them
// (POST /api/auth/sms/send with a captcha of purpose sms and the invitation code), and read where the
// console SMS provider delivers them, the server's sms_outbox table, as each person would read their
// phone. None of this is measured: it all happens before the clock starts.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import pg from 'pg';
import { mapConcurrent, request } from '../test/helpers/cluster.js';
import { captchas } from './load.js';

/** Read-only queries on a server's database, SQLite or PostgreSQL (statements without parameters, valid on both). */
export interface BenchDatabase {
  rows<T>(sql: string): Promise<T[]>;
  close(): Promise<void>;
}

export function sqliteDatabase(dataDir: string): BenchDatabase {
  const db = new Database(path.join(dataDir, 'gatehouse.sqlite'), { readonly: true });
  return {
    rows: async <T>(sql: string) => db.prepare(sql).all() as T[],
    close: async () => void db.close(),
  };
}

export async function postgresDatabase(url: string): Promise<BenchDatabase> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    rows: async <T>(sql: string) => (await client.query(sql)).rows as T[],
    close: () => client.end(),
  };
}

/** One registration code per phone, sent 50 at a time; throws with the refusals' statuses and codes if any send is refused. */
export async function requestRegistrationCodes(port: number, phones: string[], invitationCode: string): Promise<void> {
  const ids = await captchas(() => request(port, 'GET', '/api/auth/captcha/generate?purpose=sms'), phones.length);
  const refused: Record<string, number> = {};
  await mapConcurrent(phones, 50, async (phone, i) => {
    const res = await request(port, 'POST', '/api/auth/sms/send', {
      body: { phone, purpose: 'register', invitation_code: invitationCode, captcha_id: ids[i], captcha: 'TEST' },
    });
    if (res.status === 202) return;
    const key = `${res.status} ${res.body?.error?.code ?? ''}`.trim();
    refused[key] = (refused[key] ?? 0) + 1;
  });
  if (Object.keys(refused).length) throw new Error(`the server refused SMS sends before the burst: ${JSON.stringify(refused)}`);
}

/**
 * Waits until the task worker has delivered a registration code to every phone; the codes by phone.
 * The outbox holds numbers in E.164, the benchmark's phones are national numbers of one length: a
 * row belongs to the phone its number ends with.
 */
export async function deliveredCodes(db: BenchDatabase, phones: string[], timeoutMs: number): Promise<Map<string, string>> {
  const wanted = new Set(phones);
  const length = phones[0]?.length ?? 0;
  const deadline = performance.now() + timeoutMs;
  const codes = new Map<string, string>();
  while (codes.size < wanted.size) {
    if (performance.now() > deadline) throw new Error(`only ${codes.size} of ${wanted.size} registration codes reached the outbox in ${timeoutMs / 1000} s`);
    await sleep(200);
    for (const row of await db.rows<{ phone: string; message: string }>("SELECT phone, message FROM sms_outbox WHERE purpose = 'register'")) {
      const phone = row.phone.slice(-length);
      const code = /\b(\d{6})\b/.exec(row.message)?.[1];
      if (wanted.has(phone) && code) codes.set(phone, code);
    }
  }
  return codes;
}

/** Accounts whose phone an SMS code proved: after an --sms burst, one per 201. */
export async function verifiedAccounts(db: BenchDatabase): Promise<number> {
  const [row] = await db.rows<{ n: number | string }>('SELECT count(*) AS n FROM users WHERE phone_verified_at IS NOT NULL');
  return Number(row?.n ?? 0);
}
