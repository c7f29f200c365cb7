// A roster file as spreadsheet programs write it: CSV in UTF-8 (with or without a BOM), UTF-16 (Excel's
// "Unicode text"), or GB18030/GBK (what Excel and WPS save as "CSV" on a Chinese Windows). Columns:
// name, phone, optional role, with or without a header row (English or Chinese headings). Gatehouse's
// own member export is such a file.
import { parse } from 'csv-parse/sync';
import { csvCellText } from '../text/csv.js';
import type { Role } from '../db/schema.js';

export interface DecodedFile {
  text: string;
  encoding: 'utf-8' | 'utf-16le' | 'utf-16be' | 'gb18030';
}

export function decodeRosterBytes(bytes: Uint8Array): DecodedFile {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { text: new TextDecoder('utf-8').decode(bytes.subarray(3)), encoding: 'utf-8' };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { text: new TextDecoder('utf-16le').decode(bytes.subarray(2)), encoding: 'utf-16le' };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { text: new TextDecoder('utf-16be').decode(bytes.subarray(2)), encoding: 'utf-16be' };
  try {
    // Valid UTF-8 is almost never valid-looking GB18030 by accident, and vice versa: try UTF-8 strictly first.
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'utf-8' };
  } catch {
    return { text: new TextDecoder('gb18030').decode(bytes), encoding: 'gb18030' };
  }
}

export interface RosterRow {
  /** 1-based line of the file's data, counting the header row when there is one (as a spreadsheet shows it). */
  row: number;
  name: string;
  phone: string;
  role: string;
}

const HEADINGS = {
  name: ['name', 'full name', '姓名', '名字', '教师姓名', '学员姓名'],
  phone: ['phone', 'mobile', 'phone number', 'tel', '手机', '手机号', '手机号码', '电话', '联系电话'],
  role: ['role', '角色', '身份'],
};

function columnOf(header: string[], names: string[]): number {
  return header.findIndex((h) => names.includes(h.trim().toLowerCase()));
}

export class RosterFormatError extends Error {
  override name = 'RosterFormatError';
}

/** The rows of a roster. Throws RosterFormatError for a file that is not a roster (bad CSV, no rows, too many). */
export function parseRoster(text: string, maxRows: number): RosterRow[] {
  let records: string[][];
  try {
    records = parse(text, { relax_column_count: true, skip_empty_lines: true, trim: true, relax_quotes: true }) as string[][];
  } catch (error) {
    throw new RosterFormatError(`the file is not valid CSV: ${(error as Error).message}`);
  }
  if (records.length === 0) throw new RosterFormatError('the file has no rows');
  const first = records[0]!;
  let columns = { name: 0, phone: 1, role: 2 };
  let start = 0;
  const nameColumn = columnOf(first, HEADINGS.name);
  const phoneColumn = columnOf(first, HEADINGS.phone);
  if (nameColumn !== -1 || phoneColumn !== -1) {
    if (nameColumn === -1 || phoneColumn === -1) throw new RosterFormatError('the header row needs both a name and a phone column');
    columns = { name: nameColumn, phone: phoneColumn, role: columnOf(first, HEADINGS.role) };
    start = 1;
  }
  const rows = records.slice(start);
  if (rows.length === 0) throw new RosterFormatError('the file has a header but no rows');
  if (rows.length > maxRows) throw new RosterFormatError(`the file has ${rows.length} rows; at most ${maxRows} are imported at once`);
  // Gatehouse's own exports (and its import reports) guard formula-like cells with a quote mark.
  const cell = (record: string[], column: number) => (column === -1 ? '' : csvCellText(record[column] ?? ''));
  return rows.map((record, i) => ({
    row: i + start + 1,
    name: cell(record, columns.name),
    phone: cell(record, columns.phone),
    role: cell(record, columns.role),
  }));
}

/** The role a roster names: user unless it says admin (管理员, a platform administrator) or org_admin (机构管理员, the organization's). */
export function rosterRole(value: string): Role | null {
  const v = value.trim().toLowerCase();
  if (v === '' || v === 'user' || v === 'teacher' || v === 'student' || v === '用户' || v === '教师' || v === '老师' || v === '学员' || v === '学生') return 'user';
  if (v === 'admin' || v === '管理员') return 'admin';
  if (v === 'org_admin' || v === '机构管理员') return 'org_admin';
  return null;
}
