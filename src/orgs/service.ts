// Organizations (schools) and their invitation codes.
import type { Database } from '../db/database.js';
import type { InvitationCodeRow, OrganizationRow } from '../db/schema.js';
import { isUniqueViolation } from '../db/errors.js';
import { AppError } from '../errors.js';
import { randomString } from '../security/tokens.js';
import { createOrgRepo, type OrgRepo } from './repo.js';

/** Easy to read aloud and type: no I/1, O/0. Eight characters ≈ 40 bits. */
const INVITATION_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const INVITATION_LENGTH = 8;

export function normalizeInvitationCode(code: string): string {
  return code.trim().toUpperCase();
}

export interface ResolvedInvitation {
  code: string;
  organizationId: number;
  organizationName: string;
}

export interface NewInvitationOptions {
  maxUses?: number | null;
  expiresAt?: number | null;
}

export class OrgService {
  private readonly repo: OrgRepo;

  constructor(private readonly database: Database, private readonly now: () => number = Date.now) {
    this.repo = createOrgRepo(database.db);
  }

  async createOrganization(name: string, invitation: NewInvitationOptions = {}): Promise<{ organization: OrganizationRow; invitation: InvitationCodeRow }> {
    return this.database.write(async (trx) => {
      const repo = createOrgRepo(trx);
      const organization = await repo.insertOrganization(name.trim(), this.now());
      const code = await this.insertUniqueCode(repo, organization.id, invitation);
      return { organization, invitation: code };
    });
  }

  async createInvitationCode(organizationId: number, options: NewInvitationOptions = {}): Promise<InvitationCodeRow> {
    if (!(await this.repo.findOrganization(organizationId))) throw new AppError('NOT_FOUND', { message: `No organization ${organizationId}.` });
    return this.database.retrying(() => this.insertUniqueCode(this.repo, organizationId, options));
  }

  private async insertUniqueCode(repo: OrgRepo, organizationId: number, options: NewInvitationOptions): Promise<InvitationCodeRow> {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        return await repo.insertInvitationCode({
          code: randomString(INVITATION_ALPHABET, INVITATION_LENGTH),
          organization_id: organizationId,
          created_at: this.now(),
          expires_at: options.expiresAt ?? null,
          max_uses: options.maxUses ?? null,
          revoked_at: null,
        });
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
      }
    }
    throw new Error('could not draw a free invitation code in 5 attempts');
  }

  listOrganizations() {
    return this.repo.listOrganizations();
  }

  listInvitationCodes(organizationId: number) {
    return this.repo.listInvitationCodes(organizationId);
  }

  countOrganizations() {
    return this.repo.countOrganizations();
  }

  findOrganization(id: number) {
    return this.repo.findOrganization(id);
  }

  /** The organization an invitation code admits to, or INVALID_INVITATION_CODE. */
  async resolveInvitation(rawCode: string): Promise<ResolvedInvitation> {
    const code = normalizeInvitationCode(rawCode);
    const row = await this.repo.findInvitation(code);
    const now = this.now();
    if (!row || row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now)) {
      throw new AppError('INVALID_INVITATION_CODE');
    }
    return { code: row.code, organizationId: row.organization_id, organizationName: row.organization_name };
  }
}
