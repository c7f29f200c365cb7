import { type Kysely, type Migration } from 'kysely';

/**
 * A roster import's progress and report, kept so that neither grows the cost of a poll or a chunk
 * with the file: the row count, rows done and counts on the import (small, rewritten per chunk); the
 * per-row report as rows of its own (appended per chunk). `purged_at`: when the retention sweep
 * deleted the uploaded file and its per-row report (the import's record and counts stay).
 */
export const importProgress: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('roster_imports').addColumn('rows', 'integer').execute();
    await db.schema.alterTable('roster_imports').addColumn('done', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('roster_imports').addColumn('counts', 'text').execute();
    await db.schema.alterTable('roster_imports').addColumn('purged_at', 'bigint').execute();
    await db.schema
      .createTable('roster_import_rows')
      .addColumn('import_id', 'integer', (c) => c.notNull().references('roster_imports.id').onDelete('cascade'))
      .addColumn('row', 'integer', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('phone', 'text')
      .addColumn('result', 'text', (c) => c.notNull())
      .addColumn('input_phone', 'text')
      .addPrimaryKeyConstraint('roster_import_rows_pk', ['import_id', 'row'])
      .execute();

    // Reports written before: one JSON document per import, moved into the new shape.
    const old = await db.selectFrom('roster_imports').select(['id', 'report']).where('report', 'is not', null).execute();
    for (const { id, report } of old as Array<{ id: number; report: string }>) {
      const parsed = JSON.parse(report) as { total: number; done: number; counts: Record<string, number>; rows: Array<{ row: number; name: string; phone: string | null; result: string; input_phone?: string }> };
      await db.updateTable('roster_imports').set({ rows: parsed.total, done: parsed.done, counts: JSON.stringify(parsed.counts) }).where('id', '=', id).execute();
      for (let start = 0; start < parsed.rows.length; start += 500) {
        const values = parsed.rows.slice(start, start + 500).map((r) => ({ import_id: id, row: r.row, name: r.name, phone: r.phone, result: r.result, input_phone: r.input_phone ?? null }));
        await db.insertInto('roster_import_rows').values(values).execute();
      }
    }
    await db.schema.alterTable('roster_imports').dropColumn('report').execute();
    // The retention sweep looks for files older than its cut-off that are still there.
    await db.schema.createIndex('roster_imports_unpurged').on('roster_imports').columns(['purged_at', 'created_at']).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropIndex('roster_imports_unpurged').execute();
    await db.schema.alterTable('roster_imports').addColumn('report', 'text').execute();
    await db.schema.dropTable('roster_import_rows').execute();
    for (const column of ['purged_at', 'counts', 'done', 'rows']) await db.schema.alterTable('roster_imports').dropColumn(column).execute();
  },
};
