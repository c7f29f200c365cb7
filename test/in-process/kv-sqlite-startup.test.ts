// Every worker of a new data directory opens the shared store's file at the same moment and creates
// its table: one that finds the file's write lock taken must wait for it, not fail (a worker that
// fails here exits; seen as "database is locked" at start-up on a loaded machine).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import { createSqliteStore } from '../../src/kv/sqlite.js';
import { ROOT } from '../helpers/cluster.js';

const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-kv-startup-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Another process that takes the new file's write lock, says so, and holds it for holdMs. */
function holdWriteLock(file: string, holdMs: number): Promise<{ done: Promise<number | null> }> {
  const program = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1]);
    db.pragma('journal_mode = WAL');
    db.exec('BEGIN IMMEDIATE');
    process.stdout.write('locked\\n');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.argv[2]));
    db.exec('COMMIT');
  `;
  const child = spawn(process.execPath, ['-e', program, file, String(holdMs)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const done = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => resolve({ done }));
    child.once('exit', (code) => reject(new Error(`the lock holder exited with ${code} before taking the lock`)));
  });
}

it('a store opened on a new file while another process holds its write lock waits for the lock, then works', async () => {
  const file = path.join(dir, 'gatehouse-kv.sqlite');
  const holder = await holdWriteLock(file, 300);
  const store = createSqliteStore({ file });
  try {
    await store.put('key', 'value', 60_000);
    assert.equal(await store.get('key'), 'value');
  } finally {
    await store.close();
  }
  assert.equal(await holder.done, 0);
});
