// Online backup and restore of the embedded SQLite database (SQLite's backup API: a consistent copy
// while the service keeps writing).
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

export async function backupSqlite(databaseFile: string, destination: string): Promise<{ pages: number }> {
  if (!existsSync(databaseFile)) throw new Error(`no database at ${databaseFile}`);
  if (existsSync(destination)) throw new Error(`${destination} exists; choose a new file`);
  mkdirSync(path.dirname(destination), { recursive: true });
  const source = new BetterSqlite3(databaseFile, { fileMustExist: true });
  try {
    source.pragma('busy_timeout = 5000');
    const { totalPages } = await source.backup(destination);
    return { pages: totalPages };
  } finally {
    source.close();
  }
}

function checkIntegrity(file: string): void {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    const result = db.pragma('integrity_check', { simple: true });
    if (result !== 'ok') throw new Error(`${file} fails SQLite's integrity check: ${String(result)}`);
    const hasUsers = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users'").get();
    if (!hasUsers) throw new Error(`${file} is not a Gatehouse database`);
  } finally {
    db.close();
  }
}

/** Replaces the database with a backup. The service must be stopped. */
export function restoreSqlite(backupFile: string, databaseFile: string): void {
  checkIntegrity(backupFile);
  mkdirSync(path.dirname(databaseFile), { recursive: true });
  const staging = `${databaseFile}.restoring`;
  copyFileSync(backupFile, staging);
  // The old WAL belongs to the old file: left in place it would be replayed over the restored one.
  for (const suffix of ['-wal', '-shm']) rmSync(`${databaseFile}${suffix}`, { force: true });
  renameSync(staging, databaseFile);
}
