// How an invitation code looks outside the service (CLI --json and the admin API alike).
import type { InvitationCodeRow } from '../db/schema.js';

export function invitationJson(code: InvitationCodeRow) {
  return {
    invitation_code: code.code,
    organization_id: code.organization_id,
    uses: code.uses,
    max_uses: code.max_uses,
    expires_at: code.expires_at === null ? null : new Date(code.expires_at).toISOString(),
    revoked: code.revoked_at !== null,
    created_at: new Date(code.created_at).toISOString(),
  };
}
