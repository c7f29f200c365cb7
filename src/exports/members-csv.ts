// What a roster export lists, as CSV. The name, phone and role columns carry the headings the roster
// import reads, so an exported file can be imported elsewhere as it is.
import type { MemberRow } from '../accounts/service.js';
import { csvDocument } from '../text/csv.js';

export const MEMBER_COLUMNS = ['name', 'phone', 'role', 'status', 'registered_at', 'invitation_code', 'password_set'];

export function memberCells(member: MemberRow): Array<string | null> {
  return [member.name, member.phone, member.role, member.status, new Date(member.created_at).toISOString(), member.invitation_code, member.password_set ? 'yes' : 'no'];
}

export function membersCsv(members: MemberRow[]): string {
  return csvDocument(MEMBER_COLUMNS, members.map(memberCells));
}
