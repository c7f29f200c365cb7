// What an import reports, row by row.
import { csvDocument } from '../text/csv.js';

export type RowResult = 'created' | 'exists' | 'invalid_phone' | 'invalid_name' | 'invalid_role' | 'duplicate_in_file';

export interface RowOutcome {
  row: number;
  name: string;
  /** E.164, when the phone was valid. */
  phone: string | null;
  result: RowResult;
  /** What the file said, for an invalid phone. */
  input_phone?: string;
}

export interface ImportReport {
  total: number;
  /** Rows processed and committed so far. */
  done: number;
  counts: Record<RowResult, number>;
  rows: RowOutcome[];
}

export function emptyReport(total: number): ImportReport {
  return { total, done: 0, counts: { created: 0, exists: 0, invalid_phone: 0, invalid_name: 0, invalid_role: 0, duplicate_in_file: 0 }, rows: [] };
}

/** The report as CSV for a spreadsheet. */
export function reportCsv(report: ImportReport): string {
  return csvDocument(['row', 'name', 'phone', 'result'], report.rows.map((r) => [r.row, r.name, r.phone ?? r.input_phone ?? '', r.result]));
}
