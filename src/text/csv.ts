// CSV for spreadsheets (Excel and WPS on Chinese Windows among them).

type Cell = string | number | null | undefined;

// A spreadsheet takes a cell that starts with = + - @ for a formula (CSV injection). Such a cell is
// written with a quote mark before it. A text that already starts with quote marks and then one of
// those gets one more, so that reading a cell back (csvCellText) is exact for every text.
const NEEDS_GUARD = /^'*[=+\-@]/;
const GUARDED = /^'+[=+\-@]/;

/** One field: quoted when needed; a formula defused with a leading quote mark. */
export function csvField(value: Cell): string {
  const text = value === null || value === undefined ? '' : String(value);
  const safe = NEEDS_GUARD.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The text that csvField wrote a cell for: its formula guard taken off (the inverse of csvField's guard). */
export function csvCellText(cell: string): string {
  return GUARDED.test(cell) ? cell.slice(1) : cell;
}

/** A whole file: UTF-8 with a BOM (so that Excel reads it as UTF-8, not the system code page), CRLF lines. */
export function csvDocument(header: string[], rows: Iterable<Cell[]>): string {
  const lines = [header.map(csvField).join(',')];
  for (const row of rows) lines.push(row.map(csvField).join(','));
  return '\uFEFF' + lines.join('\r\n') + '\r\n';
}
