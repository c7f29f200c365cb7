// What an administrator does to organizations and their invitation codes, from the console or the
// command line: each action once, with its audit event, whoever asks.
import type { AuditLog } from '../audit/service.js';
import type { InvitationCodeRow, OrganizationRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { Principal } from '../principal.js';
import type { InvitationLimits, NewInvitationOptions, OrganizationSettings, OrgService } from '../orgs/service.js';
import { changedLimitsJson, changedSettingsJson, invitationJson } from '../orgs/views.js';

export class OrganizationAdmin {
  constructor(private readonly deps: { orgs: OrgService; audit: AuditLog }) {}

  /** A new organization with its first invitation code. */
  async createOrganization(by: Principal, name: string, invitation: NewInvitationOptions): Promise<{ organization: OrganizationRow; invitation: InvitationCodeRow }> {
    const created = await this.deps.orgs.createOrganization(name, invitation);
    await this.recordInvitationCreated(by, created.organization.id, { organization_created: true });
    return created;
  }

  /** A new name, or whether registering needs an SMS code; ORGANIZATION_NOT_FOUND. */
  async changeOrganization(by: Principal, organizationId: number, settings: OrganizationSettings): Promise<OrganizationRow> {
    const updated = await this.deps.orgs.updateOrganization(organizationId, settings);
    if (!updated) throw new AppError('ORGANIZATION_NOT_FOUND');
    await this.deps.audit.recordBy(by, { event: 'admin.organization_changed', target: `organization:${updated.id}`, detail: changedSettingsJson(settings, updated) });
    return updated;
  }

  /** Deletes an organization without members; ORGANIZATION_NOT_FOUND, ORGANIZATION_NOT_EMPTY. */
  async deleteOrganization(by: Principal, organizationId: number): Promise<OrganizationRow> {
    const deleted = await this.deps.orgs.deleteOrganization(organizationId);
    if (!deleted) throw new AppError('ORGANIZATION_NOT_FOUND');
    await this.deps.audit.recordBy(by, { event: 'admin.organization_deleted', target: `organization:${deleted.id}`, detail: { name: deleted.name } });
    return deleted;
  }

  /** Another invitation code for an organization; ORGANIZATION_NOT_FOUND. */
  async createInvitation(by: Principal, organizationId: number, options: NewInvitationOptions): Promise<InvitationCodeRow> {
    if (!(await this.deps.orgs.findOrganization(organizationId))) throw new AppError('ORGANIZATION_NOT_FOUND');
    const code = await this.deps.orgs.createInvitationCode(organizationId, options);
    const { max_uses, expires_at } = invitationJson(code);
    await this.recordInvitationCreated(by, organizationId, { max_uses, expires_at });
    return code;
  }

  async revokeInvitation(by: Principal, rawCode: string): Promise<InvitationCodeRow> {
    const code = await this.deps.orgs.revokeInvitation(rawCode);
    await this.deps.audit.recordBy(by, { event: 'admin.invitation_revoked', target: `organization:${code.organization_id}` });
    return code;
  }

  /** A live code's new quota or expiry; the code stays the same. */
  async changeInvitationLimits(by: Principal, rawCode: string, limits: InvitationLimits): Promise<InvitationCodeRow> {
    const code = await this.deps.orgs.changeInvitationLimits(rawCode, limits);
    await this.deps.audit.recordBy(by, { event: 'admin.invitation_changed', target: `organization:${code.organization_id}`, detail: changedLimitsJson(limits, code) });
    return code;
  }

  /** Replaces a code with a new one of the same organization, quota and expiry. */
  async rotateInvitation(by: Principal, rawCode: string): Promise<InvitationCodeRow> {
    const code = await this.deps.orgs.rotateInvitation(rawCode);
    await this.deps.audit.recordBy(by, { event: 'admin.invitation_rotated', target: `organization:${code.organization_id}` });
    return code;
  }

  /** A new code, with its organization or for one that exists. */
  private recordInvitationCreated(by: Principal, organizationId: number, detail: Record<string, unknown>): Promise<void> {
    return this.deps.audit.recordBy(by, { event: 'admin.invitation_created', target: `organization:${organizationId}`, detail });
  }
}
