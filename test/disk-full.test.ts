// The embedded default's disk fills up, then has room again: whatever needs to write answers 503
// STORE_UNAVAILABLE with Retry-After meanwhile (never a 500), reads go on, nothing is half-written,
// the log says why, and no restart is needed. The disk is a real file system (a small tmpfs) filled
// by a real file.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cookieOf, loginThrough, metricValue, registerThrough, request, runCli, scrapeMetrics, startServer, type HttpResult, type ServerProcess } from './helpers/cluster.js';
import { isStoreOutage } from '../src/db/store-errors.js';
import { TEST_REDIS_URL, uniquePrefix } from './helpers/redis.js';
import { unmet } from './helpers/requirements.js';

const PASSWORD = 'a good long passphrase';

/** A file system of its own, small enough to fill in a moment. */
function smallDisk(): { dir: string; fill: () => void; makeRoom: () => void; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const filler = path.join(dir, 'filler');
  return {
    dir,
    // Zeros until the file system says it is full (smaller writes at the end take the last bytes).
    fill() {
      const fd = openSync(filler, 'w');
      try {
        for (const size of [64 * 1024, 4096, 1]) {
          const chunk = Buffer.alloc(size);
          try {
            for (;;) writeSync(fd, chunk);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    makeRoom: () => rmSync(filler, { force: true }),
    remove() {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Mounting needs root (CAP_SYS_ADMIN): where it is refused these tests are skipped, saying why. */
const cannotMount =
  (await unmet('root')) ||
  (() => {
    try {
      smallDisk().remove();
      return false;
    } catch (error) {
      return `mounting a small tmpfs was refused: ${(error as Error).message.split('\n')[0]}`;
    }
  })();

function assertUnavailable(res: HttpResult, what: string): void {
  assert.equal(res.status, 503, `${what}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body.error.code, 'STORE_UNAVAILABLE', what);
  assert.ok(Number(res.headers['retry-after']) >= 1, `${what}: Retry-After`);
}

function registration(server: ServerProcess, phone: string, captchaId: string) {
  return request(server.port, 'POST', '/api/auth/register', {
    body: { phone, password: PASSWORD, name: 'Teacher', invitation_code: server.invitationCode, captcha_id: captchaId, captcha: 'TEST' },
  });
}

async function captchaIds(server: ServerProcess, purpose: string, n: number): Promise<string[]> {
  return Promise.all(Array.from({ length: n }, async () => (await request(server.port, 'GET', `/api/auth/captcha/generate?purpose=${purpose}`)).body.captcha_id as string));
}

describe('embedded default on a full disk', { skip: cannotMount }, () => {
  let disk: ReturnType<typeof smallDisk>;
  let server: ServerProcess;
  before(async () => {
    disk = smallDisk();
    server = await startServer({ workers: 2, dataDir: path.join(disk.dir, 'data') });
  });
  after(async () => {
    await server?.stop();
    disk?.remove();
  });

  it('writes answer 503 STORE_UNAVAILABLE while the disk is full, reads go on; with room again it all works, no restart', async () => {
    const phones = Array.from({ length: 4 }, (_, i) => `1390000${String(i).padStart(4, '0')}`);
    for (const phone of phones) assert.equal((await registerThrough(server.port, server.invitationCode, phone)).status, 201);
    const cookies = await Promise.all(phones.map(async (phone) => cookieOf(await loginThrough(server.port, phone, PASSWORD))));

    const space = async () => {
      const text = await scrapeMetrics(server.port);
      return { free: metricValue(text, 'gatehouse_data_dir_free_bytes'), size: metricValue(text, 'gatehouse_data_dir_size_bytes') };
    };
    const atStart = await space();
    assert.equal(atStart.size, 16 * 1024 * 1024, 'the metric reads the data directory\'s own file system');
    assert.ok(atStart.free > 1024 * 1024, JSON.stringify(atStart));

    disk.fill();
    assert.ok((await space()).free < 64 * 1024, 'what an alert on the free space sees');
    // A captcha (the shared store), signing out (the database): each needs to write.
    for (let i = 0; i < 4; i++) {
      assertUnavailable(await request(server.port, 'GET', '/api/auth/captcha/generate?purpose=login'), 'captcha');
      assertUnavailable(await request(server.port, 'POST', '/api/auth/logout', { cookie: cookies[i]! }), 'logout');
    }
    // Reading goes on: a signed-in teacher still sees their account.
    const me = await request(server.port, 'GET', '/api/auth/me', { cookie: cookies[0]! });
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.match(server.output(), /database or disk is full/, 'the log says why');

    disk.makeRoom();
    assert.ok((await space()).free > 1024 * 1024);
    assert.equal((await request(server.port, 'POST', '/api/auth/logout', { cookie: cookies[1]! })).status, 204);
    assert.equal((await request(server.port, 'GET', '/api/auth/me', { cookie: cookies[1]! })).status, 401, 'signed out for real');
    assert.equal((await registerThrough(server.port, server.invitationCode, '13900009999')).status, 201);
    for (const phone of phones) assert.equal((await loginThrough(server.port, phone, PASSWORD)).status, 200, 'the accounts from before are intact');
    assert.equal(server.child.exitCode, null, 'no process died');
  });
});

// With the counters and captchas in Redis, registrations and logins get as far as the database's own
// transaction, and that is what fails.
describe('database on a full disk, shared store in Redis', { skip: cannotMount || (await unmet('redis')) }, () => {
  let disk: ReturnType<typeof smallDisk>;
  let server: ServerProcess;
  before(async () => {
    disk = smallDisk();
    server = await startServer({ workers: 2, dataDir: path.join(disk.dir, 'data'), env: { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: uniquePrefix('disk-full') } });
  });
  after(async () => {
    await server?.stop();
    disk?.remove();
  });

  it('concurrent registrations and logins get 503, none half-done: the same phones register once there is room', async () => {
    const existing = '13900001000';
    assert.equal((await registerThrough(server.port, server.invitationCode, existing)).status, 201);
    const phones = Array.from({ length: 20 }, (_, i) => `1390002${String(i).padStart(4, '0')}`);
    const registerCaptchas = await captchaIds(server, 'register', phones.length);
    const loginCaptchas = await captchaIds(server, 'login', 5);

    disk.fill();
    const [registered, loggedIn] = await Promise.all([
      Promise.all(phones.map((phone, i) => registration(server, phone, registerCaptchas[i]!))),
      Promise.all(loginCaptchas.map((id) => request(server.port, 'POST', '/api/auth/login', { body: { phone: existing, password: PASSWORD, captcha_id: id, captcha: 'TEST' } }))),
    ]);
    registered.forEach((res, i) => assertUnavailable(res, `registration ${i}`));
    loggedIn.forEach((res, i) => assertUnavailable(res, `login ${i}`));

    disk.makeRoom();
    // A 503 left nothing behind: no account holds these phones, and the code's uses count only real accounts.
    const again = await Promise.all(phones.map((phone) => registerThrough(server.port, server.invitationCode, phone)));
    again.forEach((res, i) => assert.equal(res.status, 201, `phone ${i}: ${JSON.stringify(res.body)}`));
    assert.equal((await loginThrough(server.port, existing, PASSWORD)).status, 200);
    const listed = await runCli(['org', 'list', '--json'], { DATA_DIR: server.dataDir });
    const [organization] = JSON.parse(listed.stdout) as Array<{ user_count: number; invitation_codes: Array<{ uses: number }> }>;
    assert.equal(organization!.user_count, 1 + phones.length);
    assert.equal(organization!.invitation_codes[0]!.uses, 1 + phones.length);
  });
});

it('the same holds for PostgreSQL: its insufficient-resources errors (class 53: disk full, out of memory, too many connections) are an outage, a query error is not', () => {
  for (const code of ['53100', '53200', '53300', 'SQLITE_FULL', 'SQLITE_IOERR_WRITE', 'SQLITE_READONLY_DBMOVED', 'SQLITE_CANTOPEN', 'ECONNREFUSED', '57P01']) {
    assert.equal(isStoreOutage(Object.assign(new Error(code), { code })), true, code);
  }
  for (const code of ['23505', '23503', '42P01', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_ERROR', 'SQLITE_CORRUPT', undefined]) {
    assert.equal(isStoreOutage(Object.assign(new Error(String(code)), { code })), false, String(code));
  }
});
