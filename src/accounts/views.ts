// An account as the API and the command line show it: never its password hash.
import type { UserRow } from '../db/schema.js';
import { maskPhone } from '../text/phone.js';

export function publicUser(user: UserRow) {
  return {
    id: user.id,
    phone: user.phone,
    name: user.name,
    role: user.role,
    status: user.status,
    organization_id: user.organization_id,
    created_at: new Date(user.created_at).toISOString(),
    two_factor_enabled: user.totp_enabled_at !== null,
    password_set: user.password_hash !== null,
  };
}

/** What the audit log keeps of a deleted account: enough to tell which one it was, not who. */
export function deletedDetail(user: UserRow): Record<string, unknown> {
  return { phone: maskPhone(user.phone), organization_id: user.organization_id, role: user.role };
}
