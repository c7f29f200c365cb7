// What an administrator does to organizations and their invitation codes, from the console or the
// command line: each action once, with its audit event, whoever asks. An organization administrator
// does them to their own organization only, and neither creates nor deletes organizations.
import type { AuditLog } from '../audit/service.js';
import type { InvitationCodeRow, OrganizationRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { Principal } from '../principal.js';
import { confinedTo, requireOrganization, requirePlatform } from '../principal.js';
import type { InvitationLimits, NewInvitationOptions, OrganizationSettings, OrgService } from '../orgs/service.js';
import { changedLimitsJson, changedSettingsJson, invitationJson } from '../orgs/views.js';

export class OrganizationAdmin {
  constructor(private readonly deps: { orgs: OrgService; audit: AuditLog }) {}

  /** A new organization with its first invitation code. */
  async createOrganization(by: Principal, name: string, invitation: NewInvitationOptions): Promise<{ organization: OrganizationRow; invitation: InvitationCodeRow }> {
    requirePlatform(by, 'create organizations');
    const created = await this.deps.orgs.createOrganization(name, invitation);
    await this.recordInvitationCreated(by, created.organization.id, { organization_created: true });
    return created;
  }

  /**
   * A new name, or whether registering needs an SMS code; ORGANIZATION_NOT_FOUND. The SMS check is a
   * platform administrator's: without it anyone can register a stranger's phone number, which then
   * cannot register anywhere on the platform (see docs/security.md).
   */
  async changeOrganization(by: Principal, organizationId: number, settings: OrganizationSettings): Promise<OrganizationRow> {
    requireOrganization(by, organizationId);
    if (settings.registerRequiresSms !== undefined) requirePlatform(by, 'change whether registering needs an SMS code');
    const updated = await this.deps.orgs.updateOrganization(organizationId, settings);
    if (!updated) throw new AppError('ORGANIZATION_NOT_FOUND');
    await this.deps.audit.recordBy(by, { event: 'admin.organization_changed', target: `organization:${updated.id}`, detail: changedSettingsJson(settings, updated) });
    return updated;
  }

  /** Deletes an organization without members; ORGANIZATION_NOT_FOUND, ORGANIZATION_NOT_EMPTY. */
  async deleteOrganization(by: Principal, organizationId: number): Promise<OrganizationRow> {
    requirePlatform(by, 'delete organizations');
    const deleted = await this.deps.orgs.deleteOrganization(organizationId);
    if (!deleted) throw new AppError('ORGANIZATION_NOT_FOUND');
    await this.deps.audit.recordBy(by, { event: 'admin.organization_deleted', target: `organization:${deleted.id}`, detail: { name: deleted.name } });
    return deleted;
  }

  /** Another invitation code for an organization; ORGANIZATION_NOT_FOUND. */
  async createInvitation(by: Principal, organizationId: number, options: NewInvitationOptions): Promise<InvitationCodeRow> {
    requireOrganization(by, organizationId);
    if (!(await this.deps.orgs.findOrganization(organizationId))) throw new AppError('ORGANIZATION_NOT_FOUND');
    const code = await this.deps.orgs.createInvitationCode(organizationId, options);
    const { max_uses, expires_at } = invitationJson(code);
    await this.recordInvitationCreated(by, organizationId, { max_uses, expires_at });
    return code;
  }

  async revokeInvitation(by: Principal, rawCode: string): Promise<InvitationCodeRow> {
    await this.requireCodeInScope(by, rawCode);
    const code = await this.deps.orgs.revokeInvitation(rawCode);
    await this.deps.audit.recordBy(by, { event: 'admin.invitation_revoked', target: `organization:${code.organization_id}` });
    return code;
  }

  /** A live code's new quota or expiry; the code stays the same. */
  async changeInvitationLimits(by: Principal, rawCode: string, limits: InvitationLimits): Promise<InvitationCodeRow> {
    await this.requireCodeInScope(by, rawCode);
    const code = await this.deps.orgs.changeInvitationLimits(rawCode, limits);
    await this.deps.audit.recordBy(by, { event: 'admin.invitation_changed', target: `organization:${code.organization_id}`, detail: changedLimitsJson(limits, code) });
    return code;
  }

  /** Replaces a code with a new one of the same organization, quota and expiry. */
  async rotateInvitation(by: Principal, rawCode: string): Promise<InvitationCodeRow> {
    await this.requireCodeInScope(by, rawCode);
    const code = await this.deps.orgs.rotateInvitation(rawCode);
    await this.deps.audit.recordBy(by, { event: 'admin.invitation_rotated', target: `organization:${code.organization_id}` });
    return code;
  }

  /** The organizations the principal administers: all, or its own. */
  visibleOrganizations<T extends { id: number }>(by: Principal, all: readonly T[]): T[] {
    const own = confinedTo(by);
    return own === undefined ? [...all] : all.filter((o) => o.id === own);
  }

  /**
   * For an organization administrator: 404 for a code that does not exist (as for anyone), 403
   * OUTSIDE_ORGANIZATION for another organization's. A code's organization never changes, so the
   * answer holds for the action that follows.
   */
  async requireCodeInScope(by: Principal, rawCode: string): Promise<void> {
    if (confinedTo(by) === undefined) return;
    const code = await this.deps.orgs.findInvitation(rawCode);
    if (!code) throw new AppError('NOT_FOUND', { message: 'No invitation code with that value.' });
    requireOrganization(by, code.organization_id);
  }

  /** A new code, with its organization or for one that exists. */
  private recordInvitationCreated(by: Principal, organizationId: number, detail: Record<string, unknown>): Promise<void> {
    return this.deps.audit.recordBy(by, { event: 'admin.invitation_created', target: `organization:${organizationId}`, detail });
  }
}
