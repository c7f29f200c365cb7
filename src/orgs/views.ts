// How organizations and invitation codes look outside the service (CLI --json and the admin API alike).
import type { InvitationCodeRow, OrganizationRow } from '../db/schema.js';
import type { InvitationLimits, OrganizationSettings } from './service.js';

/** The stored expiry for the API's and the command line's "expires in `days` days"; null (never) for none. */
export function expiryAfterDays(days: number | null | undefined, now = Date.now()): number | null {
  return days ? now + days * 86_400_000 : null;
}

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

export function organizationJson(organization: OrganizationRow) {
  return {
    id: organization.id,
    name: organization.name,
    register_requires_sms: organization.register_requires_sms === 1,
    created_at: new Date(organization.created_at).toISOString(),
  };
}

/** What a change set, as the audit log records it: the fields it named, as stored. */
export function changedSettingsJson(settings: OrganizationSettings, updated: OrganizationRow) {
  return {
    ...(settings.name !== undefined ? { name: updated.name } : {}),
    ...(settings.registerRequiresSms !== undefined ? { register_requires_sms: updated.register_requires_sms === 1 } : {}),
  };
}

/** What a change of an invitation code's limits set, as the audit log records it. */
export function changedLimitsJson(limits: InvitationLimits, updated: InvitationCodeRow) {
  const { max_uses, expires_at } = invitationJson(updated);
  return { ...(limits.maxUses !== undefined ? { max_uses } : {}), ...(limits.expiresAt !== undefined ? { expires_at } : {}) };
}
