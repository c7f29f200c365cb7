import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqlite, type Database } from '../../src/db/database.js';
import { prepareDatabase } from '../../src/server/bootstrap.js';
import { SessionService } from '../../src/sessions/service.js';

describe('session expiry', () => {
  let dir: string;
  let database: Database;
  let now = 1_700_000_000_000;
  let sessions: SessionService;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-sessions-'));
    database = openSqlite({ file: path.join(dir, 'db.sqlite') });
    await prepareDatabase(database, 's'.repeat(40));
    const now0 = Date.now();
    await database.db.insertInto('users').values({ organization_id: 1, phone: '+8613800000001', name: 'S', password_hash: null, role: 'user', status: 'active', created_at: now0, updated_at: now0, subject: 'sessions-test-subject' }).execute();
    sessions = new SessionService(database, { ttlSeconds: 3600, maxAgeSeconds: 3 * 3600 }, () => now);
  });
  after(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('slides with use, and ends after the idle TTL', async () => {
    const { token } = await sessions.create(1, { ip: null, userAgent: null }, { password: now });
    now += 50 * 60_000; // 50 minutes: still alive, and renewed
    const renewed = await sessions.authenticate(token);
    assert.ok(renewed);
    assert.equal(renewed.expires_at, now + 3600_000);
    now += 50 * 60_000; // 100 minutes after creation, 50 after last use
    assert.ok(await sessions.authenticate(token));
    now += 61 * 60_000; // idle for more than the TTL
    assert.equal(await sessions.authenticate(token), null);
  });

  it('never outlives the absolute maximum age, however it is used', async () => {
    const { token } = await sessions.create(1, { ip: null, userAgent: null }, { password: now });
    for (let i = 0; i < 4; i++) {
      now += 40 * 60_000;
      assert.ok(await sessions.authenticate(token), `use ${i}`);
    }
    now += 40 * 60_000; // 200 minutes > 3 hours
    assert.equal(await sessions.authenticate(token), null);
  });

  it('sweeps expired sessions', async () => {
    await sessions.create(1, { ip: null, userAgent: null }, { password: now });
    now += 4 * 3600_000;
    assert.ok((await sessions.sweepExpired()) >= 1);
    assert.deepEqual(await sessions.list(1), []);
  });
});
