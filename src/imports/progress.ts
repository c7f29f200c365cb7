// An import's progress and per-row report in the durable store: the counts on the import itself
// (small, rewritten with each chunk), the report rows in roster_import_rows (appended with each
// chunk). A poll reads a few columns and a chunk writes its own rows, however large the file.
import type { Db } from '../db/database.js';
import { emptyReport, type ImportReport, type RowOutcome, type RowResult } from './report.js';

export interface ImportProgress {
  done: number;
  counts: ImportReport['counts'];
}

export function parseCounts(counts: string | null): ImportReport['counts'] | null {
  return counts === null ? null : (JSON.parse(counts) as ImportReport['counts']);
}

/** Commits one chunk's report rows and the progress after it; inside the chunk's transaction. */
export async function appendChunk(trx: Db, importId: number, outcomes: RowOutcome[], progress: ImportProgress): Promise<void> {
  if (outcomes.length > 0) {
    await trx
      .insertInto('roster_import_rows')
      .values(outcomes.map((o) => ({ import_id: importId, row: o.row, name: o.name, phone: o.phone, result: o.result, input_phone: o.input_phone ?? null })))
      .execute();
  }
  await trx.updateTable('roster_imports').set({ done: progress.done, counts: JSON.stringify(progress.counts) }).where('id', '=', importId).execute();
}

/** The phones that earlier chunks created or found taken: a later row with one of them is a duplicate in the file. */
export async function settledPhones(db: Db, importId: number): Promise<Set<string>> {
  const rows = await db.selectFrom('roster_import_rows').select('phone').where('import_id', '=', importId).where('result', 'in', ['created', 'exists']).execute();
  return new Set(rows.map((r) => r.phone!));
}

/** The whole report, rows in file order. */
export async function readReport(db: Db, importId: number, total: number, progress: ImportProgress | null): Promise<ImportReport> {
  if (!progress) return emptyReport(total);
  const rows = await db.selectFrom('roster_import_rows').select(['row', 'name', 'phone', 'result', 'input_phone']).where('import_id', '=', importId).orderBy('row').execute();
  return {
    total,
    done: progress.done,
    counts: progress.counts,
    rows: rows.map((r) => ({ row: r.row, name: r.name, phone: r.phone, result: r.result as RowResult, ...(r.input_phone === null ? {} : { input_phone: r.input_phone }) })),
  };
}
