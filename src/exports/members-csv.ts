// What a roster export lists, as CSV. The name, phone and role columns carry the headings the roster
// import reads, so an exported file can be imported elsewhere as it is.
import { organizationMembers, type MemberRow } from '../accounts/service.js';
import type { Db } from '../db/database.js';
import { csvDocument } from '../text/csv.js';

const PAGE_ROWS = 2000;

export const MEMBER_COLUMNS = ['name', 'phone', 'role', 'status', 'registered_at', 'invitation_code', 'password_set'];

export function memberCells(member: MemberRow): Array<string | null> {
  return [member.name, member.phone, member.role, member.status, new Date(member.created_at).toISOString(), member.invitation_code, member.password_set ? 'yes' : 'no'];
}

export function membersCsv(members: MemberRow[]): string {
  return csvDocument(MEMBER_COLUMNS, members.map(memberCells));
}

/**
 * Every member of an organization, read in pages by id: a large organization is never one query's
 * worth of rows in the database driver. `onPage` hears how many have been read so far.
 */
export async function allMembers(db: Db, organizationId: number, onPage: (read: number) => Promise<void> = async () => {}): Promise<MemberRow[]> {
  const members: MemberRow[] = [];
  for (let afterId = 0; ; ) {
    const page = await organizationMembers(db, organizationId, afterId, PAGE_ROWS);
    members.push(...page);
    await onPage(members.length);
    if (page.length < PAGE_ROWS) return members;
    afterId = page.at(-1)!.id;
  }
}
