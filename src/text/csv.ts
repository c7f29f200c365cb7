// CSV for spreadsheets (Excel and WPS on Chinese Windows among them).

type Cell = string | number | null | undefined;

/** One field: quoted when needed; a leading = + - @ (a formula to a spreadsheet) defused with a quote mark. */
export function csvField(value: Cell): string {
  const text = value === null || value === undefined ? '' : String(value);
  const safe = /^[=+\-@]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A whole file: UTF-8 with a BOM (so that Excel reads it as UTF-8, not the system code page), CRLF lines. */
export function csvDocument(header: string[], rows: Iterable<Cell[]>): string {
  const lines = [header.map(csvField).join(',')];
  for (const row of rows) lines.push(row.map(csvField).join(','));
  return '\uFEFF' + lines.join('\r\n') + '\r\n';
}
