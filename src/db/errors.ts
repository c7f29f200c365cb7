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
  return /timeout exceeded when trying to connect|Connection terminated|Query read timeout|connect ECONNREFUSED/i.test(message);
}
