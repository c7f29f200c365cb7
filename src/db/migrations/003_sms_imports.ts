import type { Kysely, Migration } from 'kysely';
import { withIdColumn } from './columns.js';

export const smsImports: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('organizations').addColumn('register_requires_sms', 'integer', (c) => c.notNull().defaultTo(0)).execute();

    // What the console SMS provider "sent": development and first installs read codes here.
    await withIdColumn(db, db.schema.createTable('sms_outbox'))
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('phone', 'text', (c) => c.notNull())
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('message', 'text', (c) => c.notNull())
      .addColumn('task_id', 'text', (c) => c.unique())
      .execute();
    await db.schema.createIndex('sms_outbox_by_phone').on('sms_outbox').columns(['phone', 'at']).execute();

    await withIdColumn(db, db.schema.createTable('roster_imports'))
      .addColumn('organization_id', 'integer', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
      .addColumn('file_name', 'text', (c) => c.notNull())
      .addColumn('encoding', 'text', (c) => c.notNull())
      .addColumn('content', 'text', (c) => c.notNull())
      .addColumn('content_sha256', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('task_id', 'text')
      // JSON: per-row results, written when the import finishes.
      .addColumn('report', 'text')
      .execute();
    await db.schema.createIndex('roster_imports_by_org').on('roster_imports').columns(['organization_id', 'created_at']).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('roster_imports').execute();
    await db.schema.dropTable('sms_outbox').execute();
    await db.schema.alterTable('organizations').dropColumn('register_requires_sms').execute();
  },
};
