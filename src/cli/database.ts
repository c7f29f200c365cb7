// `gatehouse migrate`, `backup`, `restore`: the durable store's schema and copies.
import path from 'node:path';
import { loadConfig } from '../config.js';
import { json, print, UsageError, type Command } from './command.js';

export const migrateCommands: Record<string, Command> = {
  migrate: {
    summary: 'Bring the database schema up to date',
    usage: 'gatehouse migrate [--json]',
    options: { json },
    async run(values) {
      const config = loadConfig();
      const [{ openRuntime }, { migrateToLatest }] = await Promise.all([import('../server/runtime.js'), import('../db/migrate.js')]);
      const runtime = await openRuntime(config);
      try {
        const { applied } = await runtime.database.retrying(() => migrateToLatest(runtime.database.db));
        print({ applied }, values.json === true, () => (applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date'));
      } finally {
        await runtime.close();
      }
    },
  },
};

export const backupCommands: Record<string, Command> = {
  backup: {
    summary: 'Copy the embedded SQLite database while the service runs (online backup)',
    usage: 'gatehouse backup [--out FILE] [--json]\n\n  Default FILE: DATA_DIR/backups/gatehouse-<time>.sqlite. For PostgreSQL use pg_dump (docs/deploy.md).',
    options: { out: { type: 'string' }, json },
    async run(values) {
      const config = loadConfig();
      if (config.databaseDialect !== 'sqlite') throw new UsageError('backup copies the embedded SQLite database; for PostgreSQL use pg_dump');
      const out = typeof values.out === 'string' ? path.resolve(values.out) : path.join(config.dataDir, 'backups', `gatehouse-${new Date().toISOString().replace(/[:.]/g, '-')}.sqlite`);
      const { backupSqlite } = await import('../db/backup.js');
      const { pages } = await backupSqlite(config.databaseUrl, out);
      print({ file: out, pages }, values.json === true, () => `backup written to ${out} (${pages} pages)`);
    },
  },
  restore: {
    summary: 'Replace the embedded SQLite database with a backup (stop the service first)',
    usage: 'gatehouse restore --from FILE [--json]',
    options: { from: { type: 'string' }, json },
    async run(values) {
      if (typeof values.from !== 'string') throw new UsageError('--from is required');
      const config = loadConfig();
      if (config.databaseDialect !== 'sqlite') throw new UsageError('restore replaces the embedded SQLite database; for PostgreSQL use pg_restore');
      const { restoreSqlite } = await import('../db/backup.js');
      restoreSqlite(path.resolve(values.from), config.databaseUrl);
      print({ restored: config.databaseUrl }, values.json === true, () => `restored ${config.databaseUrl} from ${values.from}`);
    },
  },
};
