import type { Kysely, Migration } from 'kysely';
import { withIdColumn } from './columns.js';

export const tasksKeysAudit: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('tasks')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('priority', 'integer', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('max_attempts', 'integer', (c) => c.notNull())
      .addColumn('run_at', 'bigint', (c) => c.notNull())
      .addColumn('lease_owner', 'text')
      .addColumn('lease_expires_at', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('result', 'text')
      .addColumn('progress', 'text')
      .addColumn('idempotency_key', 'text', (c) => c.unique())
      .addColumn('submitted_by', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('started_at', 'bigint')
      .addColumn('finished_at', 'bigint')
      .execute();
    // What a worker asks for: the next runnable task by priority, then age.
    await db.schema.createIndex('tasks_runnable').on('tasks').columns(['state', 'priority', 'run_at']).execute();
    await db.schema.createIndex('tasks_by_submitter').on('tasks').columns(['submitted_by', 'created_at']).execute();

    await withIdColumn(db, db.schema.createTable('api_keys'))
      .addColumn('prefix', 'text', (c) => c.notNull().unique())
      .addColumn('key_hash', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('created_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_used_at', 'bigint')
      .addColumn('revoked_at', 'bigint')
      .execute();

    await withIdColumn(db, db.schema.createTable('audit_events'))
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('event', 'text', (c) => c.notNull())
      .addColumn('actor', 'text')
      .addColumn('target', 'text')
      .addColumn('ip', 'text')
      .addColumn('detail', 'text')
      .execute();
    await db.schema.createIndex('audit_events_by_time').on('audit_events').column('at').execute();
    await db.schema.createIndex('audit_events_by_event').on('audit_events').columns(['event', 'at']).execute();
  },
  async down(db: Kysely<any>) {
    for (const table of ['audit_events', 'api_keys', 'tasks']) await db.schema.dropTable(table).execute();
  },
};
