import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { mapConcurrent, registerThrough, runCli, startServer } from './helpers/cluster.js';

it('backup copies the database while the service writes; restore brings that state back', async () => {
  const server = await startServer({ workers: 2 });
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'gatehouse-backup-')), 'copy.sqlite');
  const env = { DATA_DIR: server.dataDir };
  try {
    const phones = Array.from({ length: 40 }, (_, i) => `1380000${String(i).padStart(4, '0')}`);
    // Registrations keep writing while the backup runs.
    const writing = mapConcurrent(phones, 8, (phone) => registerThrough(server.port, server.invitationCode, phone));
    const backup = await runCli(['backup', '--out', out, '--json'], env);
    assert.equal(backup.code, 0, backup.stderr);
    assert.ok(JSON.parse(backup.stdout).pages > 0);
    assert.ok((await writing).every((r) => r.status === 201));
    assert.equal((await runCli(['backup', '--out', out], env)).code, 1, 'refuses to overwrite a file');
  } finally {
    await server.stop();
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-restore-'));
  try {
    const restored = await runCli(['restore', '--from', out], { DATA_DIR: dataDir });
    assert.equal(restored.code, 0, restored.stderr);
    const orgs = JSON.parse((await runCli(['org', 'list', '--json'], { DATA_DIR: dataDir })).stdout);
    assert.equal(orgs.length, 1);
    assert.ok(orgs[0].user_count >= 0 && orgs[0].user_count <= 40, 'a consistent point in the burst');
    const garbage = path.join(dataDir, 'garbage.sqlite');
    writeFileSync(garbage, 'not a database');
    const refused = await runCli(['restore', '--from', garbage], { DATA_DIR: dataDir });
    assert.equal(refused.code, 1);
    assert.ok(existsSync(path.join(dataDir, 'gatehouse.sqlite')), 'the current database is untouched');
    assert.equal(JSON.parse((await runCli(['org', 'list', '--json'], { DATA_DIR: dataDir })).stdout).length, 1);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(path.dirname(out), { recursive: true, force: true });
  }
});
