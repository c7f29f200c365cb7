// Dialect differences in error reporting, kept here so that capabilities never look at driver codes.

interface DriverError {
  code?: unknown;
}

export function isUniqueViolation(error: unknown): boolean {
  const code = (error as DriverError | null)?.code;
  // better-sqlite3: SQLITE_CONSTRAINT_UNIQUE / SQLITE_CONSTRAINT_PRIMARYKEY; PostgreSQL: 23505.
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/** A row names another that does not exist (any more): e.g. a session for an account deleted meanwhile. */
export function isForeignKeyViolation(error: unknown): boolean {
  const code = (error as DriverError | null)?.code;
  // better-sqlite3: SQLITE_CONSTRAINT_FOREIGNKEY; PostgreSQL: 23503.
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503';
}

export function isBusy(error: unknown): boolean {
  const code = (error as DriverError | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
}

const CONNECTION_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

/** The database cannot be reached or went away (as opposed to a query that is wrong). */
export function isConnectionFailure(error: unknown): boolean {
  const err = error as { code?: unknown; message?: unknown } | null;
  const code = typeof err?.code === 'string' ? err.code : '';
  // PostgreSQL SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown).
  if (CONNECTION_ERRNOS.has(code) || code.startsWith('08') || code.startsWith('57P')) return true;
  const message = typeof err?.message === 'string' ? err.message : '';
  return /timeout exceeded when trying to connect|Connection terminated|not queryable|Query read timeout|connect ECONNREFUSED/i.test(message);
}

/**
 * The database's storage refuses the work, through no fault of the query: its disk is full, its file
 * cannot be written, read or opened, or (PostgreSQL) the server is out of resources.
 */
export function isStorageFailure(error: unknown): boolean {
  const code = (error as DriverError | null)?.code;
  if (typeof code !== 'string') return false;
  // SQLite: SQLITE_FULL, SQLITE_IOERR_*, SQLITE_READONLY_*, SQLITE_CANTOPEN_*. PostgreSQL: SQLSTATE class
  // 53, insufficient resources (53100 disk full, 53200 out of memory, 53300 too many connections).
  return code === 'SQLITE_FULL' || /^SQLITE_(IOERR|READONLY|CANTOPEN)/.test(code) || /^53[0-9A-Z]{3}$/.test(code);
}

/**
 * The database takes reads but no writes: PostgreSQL 25006, read_only_sql_transaction (a standby
 * reached through an address not yet moved after a failover, or default_transaction_read_only set
 * for maintenance).
 */
export function isReadOnlyDatabase(error: unknown): boolean {
  return (error as DriverError | null)?.code === '25006';
}

/** The store cannot serve anyone right now (gone, or its storage refuses): a 503 until it recovers, not a bug. */
export function isStoreOutage(error: unknown): boolean {
  return isConnectionFailure(error) || isStorageFailure(error) || isReadOnlyDatabase(error);
}
