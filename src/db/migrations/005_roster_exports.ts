import type { Kysely, Migration } from 'kysely';
import { withIdColumn } from './columns.js';

/** Member lists an admin asked for: written by a roster.export task, downloaded from the console. */
export const rosterExports: Migration = {
  async up(db: Kysely<any>) {
    await withIdColumn(db, db.schema.createTable('roster_exports'))
      .addColumn('organization_id', 'integer', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
      .addColumn('created_by', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('task_id', 'text')
      // Written when the export finishes: the CSV and how many members it lists.
      .addColumn('rows', 'integer')
      .addColumn('content', 'text')
      .addColumn('finished_at', 'bigint')
      .execute();
    await db.schema.createIndex('roster_exports_by_org').on('roster_exports').columns(['organization_id', 'created_at']).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('roster_exports').execute();
  },
};
