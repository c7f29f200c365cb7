// What an import reports, row by row.

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

const csvField = (value: string | number | null | undefined) => {
  const text = value === null || value === undefined ? '' : String(value);
  // Quote when needed; a leading = + - @ would be a formula in a spreadsheet: defuse it.
  const safe = /^[=+\-@]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

/** The report as CSV for a spreadsheet: UTF-8 with a BOM (so that Excel reads it as UTF-8). */
export function reportCsv(report: ImportReport): string {
  const lines = ['row,name,phone,result'];
  for (const r of report.rows) lines.push([r.row, r.name, r.phone ?? r.input_phone ?? '', r.result].map(csvField).join(','));
  return '\uFEFF' + lines.join('\r\n') + '\r\n';
}
