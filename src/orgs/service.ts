// Organizations (schools) and their invitation codes.
import { ReadThroughCache } from '../cache/read-through.js';
import { readAt, type Database, type Db, type Freshness } from '../db/database.js';
import type { InvitationCodeRow, OrganizationRow } from '../db/schema.js';
import { isForeignKeyViolation, isUniqueViolation } from '../db/store-errors.js';
import { AppError } from '../errors.js';
import { randomString } from '../security/tokens.js';
import type { Metrics } from '../observability/metrics.js';
import { printableName } from '../text/printable-name.js';
import { createOrgRepo, updateOrganization, type InvitationWithOrg, type OrgRepo, type OrganizationChanges } from './repo.js';

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
  /** Registration into this organization also needs an SMS code (purpose register). */
  requiresSms: boolean;
}

/** An organization's name as stored: printable, 1-100 characters; INVALID_NAME otherwise. */
export function organizationName(raw: string): string {
  const name = printableName(raw, 100);
  if (!name) throw new AppError('INVALID_NAME', { message: 'An organization name must be 1-100 printable characters.' });
  return name;
}

/** Whether a code admits anyone now, and if not, why (the reasons a registration attempt is told too). */
export type InvitationState = 'valid' | 'expired' | 'revoked' | 'used_up';

/** What a registration link shows before anyone fills the form: no quota, uses, dates or ids. */
export interface InvitationPreview {
  organizationName: string;
  state: InvitationState;
  requiresSms: boolean;
}

export interface OrganizationSettings {
  name?: string;
  /** Registration into the organization also needs an SMS code (purpose register). */
  registerRequiresSms?: boolean;
}

export interface NewInvitationOptions {
  maxUses?: number | null;
  expiresAt?: number | null;
}

/** A live code's new quota or expiry: null removes it, undefined leaves it as it is. */
export type InvitationLimits = NewInvitationOptions;

/** How long a process trusts its cached view of an invitation code (the write re-checks it anyway). */
const INVITATION_CACHE_TTL_MS = 30_000;

export class OrgService {
  private readonly repo: OrgRepo;
  private readonly invitations: ReadThroughCache<InvitationWithOrg | null>;
  private readonly now: () => number;

  constructor(private readonly database: Database, options: { metrics?: Metrics; now?: () => number } = {}) {
    this.repo = createOrgRepo(database.db);
    this.now = options.now ?? Date.now;
    this.invitations = new ReadThroughCache({
      name: 'invitation',
      ttlMs: INVITATION_CACHE_TTL_MS,
      maxEntries: 10_000,
      load: async (code) => (await this.repo.findInvitation(code)) ?? null,
      onLookup: (outcome) => options.metrics?.cacheLookups.inc({ cache: 'invitation', outcome }),
    });
  }

  async createOrganization(name: string, invitation: NewInvitationOptions = {}): Promise<{ organization: OrganizationRow; invitation: InvitationCodeRow }> {
    return this.database.write(async (trx) => {
      const repo = createOrgRepo(trx);
      const organization = await repo.insertOrganization(organizationName(name), this.now());
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

  listOrganizations(freshness: Freshness = 'latest') {
    return readAt(this.database, freshness, (db) => createOrgRepo(db).listOrganizations());
  }

  listInvitationCodes(organizationId: number, freshness: Freshness = 'latest') {
    return readAt(this.database, freshness, (db) => createOrgRepo(db).listInvitationCodes(organizationId));
  }

  countOrganizations() {
    return this.repo.countOrganizations();
  }

  findOrganization(id: number) {
    return this.repo.findOrganization(id);
  }

  /**
   * Renames an organization or changes whether registering into it needs an SMS code; undefined when
   * there is no such organization. Other processes may keep a cached view of its invitation codes
   * for up to 30 s, so registration re-checks the SMS setting in its own write (takeInvitationUse).
   */
  async updateOrganization(organizationId: number, settings: OrganizationSettings): Promise<OrganizationRow | undefined> {
    const changes: OrganizationChanges = {};
    if (settings.name !== undefined) changes.name = organizationName(settings.name);
    if (settings.registerRequiresSms !== undefined) changes.register_requires_sms = settings.registerRequiresSms ? 1 : 0;
    const updated = Object.keys(changes).length === 0 ? await this.repo.findOrganization(organizationId) : await this.database.write((trx) => updateOrganization(trx, organizationId, changes));
    this.invitations.clear();
    return updated;
  }

  /**
   * Deletes an organization that has no members, with its invitation codes, imports and exports;
   * undefined when there is none. A member (even one registering at this moment) makes it 409
   * ORGANIZATION_NOT_EMPTY: the users table's foreign key decides, in the same write. A code that
   * another process still holds in its cache admits nobody: registration takes the code's use in its
   * own write, and finds no code.
   */
  async deleteOrganization(organizationId: number): Promise<OrganizationRow | undefined> {
    try {
      return await this.database.write((trx) => trx.deleteFrom('organizations').where('id', '=', organizationId).returningAll().executeTakeFirst());
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new AppError('ORGANIZATION_NOT_EMPTY');
      throw error;
    } finally {
      this.invitations.clear();
    }
  }

  /**
   * The organization an invitation code admits to, from the cache: the fast early check before any
   * expensive work. Registration's transaction re-checks with takeInvitationUse. `fresh` asks the
   * database instead, for a refusal that a cache's stale view must not cause.
   */
  async resolveInvitation(rawCode: string, options: { fresh?: boolean } = {}): Promise<ResolvedInvitation> {
    const code = normalizeInvitationCode(rawCode);
    if (!/^[A-Z0-9]{4,32}$/.test(code)) throw new AppError('INVALID_INVITATION_CODE');
    if (options.fresh) this.invitations.invalidate(code);
    let row = await this.invitations.get(code);
    // A cached view may admit wrongly (the write re-checks) but must not refuse wrongly: an admin may
    // have raised the quota or moved the expiry since this process cached the code.
    if (!options.fresh && this.couldHaveReopened(row)) {
      this.invitations.invalidate(code);
      row = await this.invitations.get(code);
    }
    this.explainUnusable(row, this.now());
    return { code: row!.code, organizationId: row!.organization_id, organizationName: row!.organization_name, requiresSms: row!.register_requires_sms === 1 };
  }

  /** Used up or expired: refusals that a change of limits undoes (unlike an unknown or revoked code). */
  private couldHaveReopened(row: InvitationWithOrg | null | undefined): boolean {
    if (!row || row.revoked_at !== null) return false;
    return (row.expires_at !== null && row.expires_at <= this.now()) || (row.max_uses !== null && row.uses >= row.max_uses);
  }

  /** Throws the reason a code cannot admit anyone now; returns when it can. */
  private explainUnusable(row: InvitationWithOrg | null | undefined, now: number): void {
    const state = row ? invitationState(row, now) : undefined;
    if (state === undefined || state === 'revoked') throw new AppError('INVALID_INVITATION_CODE');
    if (state === 'expired') throw new AppError('INVITATION_EXPIRED');
    if (state === 'used_up') throw new AppError('INVITATION_EXHAUSTED');
  }

  /**
   * The organization a registration link leads to and whether its code admits anyone now, for the
   * page to say before anyone types: 404 INVITATION_NOT_FOUND for a code that never existed. Read
   * from the database, not the cache, which may be 30 s behind the last place being taken: one
   * indexed read per page load is small beside the registration that follows it.
   */
  async previewInvitation(rawCode: string): Promise<InvitationPreview> {
    const code = normalizeInvitationCode(rawCode);
    const row = /^[A-Z0-9]{4,32}$/.test(code) ? await this.repo.findInvitation(code) : undefined;
    if (!row) throw new AppError('INVITATION_NOT_FOUND');
    return { organizationName: row.organization_name, state: invitationState(row, this.now()), requiresSms: row.register_requires_sms === 1 };
  }

  /**
   * Inside a registration's write transaction: uses one admission of the code, atomically, so that a
   * quota of N admits exactly N however many registrations race.
   * `smsCodeChecked` says whether the registration proved an SMS code: the organization's setting is
   * read in this same write, so an admin's change holds at once on every process and server, whatever
   * their caches still say (the throw rolls the use back with the rest of the registration).
   */
  async takeInvitationUse(trx: Db, code: string, smsCodeChecked: boolean): Promise<void> {
    const repo = createOrgRepo(trx);
    const now = this.now();
    const taken = await repo.takeInvitationUse(code, now);
    if (taken && Number(taken.register_requires_sms) === 1 && !smsCodeChecked) {
      this.invitations.invalidate(code);
      throw new AppError('SMS_CODE_REQUIRED');
    }
    if (taken) return;
    this.invitations.invalidate(code);
    this.explainUnusable(await repo.findInvitation(code), now);
    throw new AppError('INVITATION_EXHAUSTED');
  }

  /**
   * Counts a registration code about to be sent by SMS against the invitation code that asks for it:
   * only a live code of an organization that checks phone numbers sends one, at most `sendsPerPlace`
   * per place of its quota (a code without a quota is bounded by the service's SMS caps alone), and
   * none once its places are taken. Read and counted in one write, on the database: exact across
   * processes and servers, whatever their caches say.
   */
  async takeSmsSend(rawCode: string, sendsPerPlace: number): Promise<void> {
    const code = normalizeInvitationCode(rawCode);
    if (!/^[A-Z0-9]{4,32}$/.test(code)) throw new AppError('INVALID_INVITATION_CODE');
    const now = this.now();
    if (await this.database.batched((trx) => createOrgRepo(trx).takeSmsSend(code, now, sendsPerPlace))) return;
    const row = await this.repo.findInvitation(code);
    this.explainUnusable(row, now);
    if (Number(row!.register_requires_sms) !== 1) throw new AppError('SMS_NOT_REQUIRED');
    throw new AppError('SMS_QUOTA_EXHAUSTED');
  }

  /** A registration's write found that a cached code's organization is gone: the next one asks the database. */
  forgetInvitation(rawCode: string): void {
    this.invitations.invalidate(normalizeInvitationCode(rawCode));
  }

  /** A code in any state (revoked, expired or used up too); undefined when there is none. */
  findInvitation(rawCode: string): Promise<InvitationCodeRow | undefined> {
    return this.repo.findInvitation(normalizeInvitationCode(rawCode));
  }

  /** A code that registrations can use now (not revoked; it may still be expired or used up): 404 otherwise. */
  async findLiveInvitation(rawCode: string): Promise<InvitationCodeRow> {
    const row = await this.repo.findInvitation(normalizeInvitationCode(rawCode));
    if (!row || row.revoked_at !== null) throw new AppError('NOT_FOUND', { message: 'No live invitation code with that value.' });
    return row;
  }

  async revokeInvitation(rawCode: string): Promise<InvitationCodeRow> {
    const code = normalizeInvitationCode(rawCode);
    const row = await this.database.retrying(() => this.repo.revokeInvitation(code, this.now()));
    this.invitations.invalidate(code);
    if (!row) throw new AppError('NOT_FOUND', { message: 'No live invitation code with that value.' });
    return row;
  }

  /**
   * Changes a live code's quota or expiry, keeping the code (the link and QR code already handed out
   * keep working): the workshop that needs more places than planned, or another day. A quota below
   * the uses so far closes the code. Every process admits by the new limits at once: registration's
   * write checks them, and a cached refusal is confirmed with the database first.
   */
  async changeInvitationLimits(rawCode: string, limits: InvitationLimits): Promise<InvitationCodeRow> {
    const code = normalizeInvitationCode(rawCode);
    const changes = {
      ...(limits.maxUses !== undefined ? { max_uses: limits.maxUses } : {}),
      ...(limits.expiresAt !== undefined ? { expires_at: limits.expiresAt } : {}),
    };
    const row = Object.keys(changes).length === 0 ? await this.findLiveInvitation(code) : await this.database.retrying(() => this.repo.changeInvitationLimits(code, changes));
    this.invitations.invalidate(code);
    if (!row) throw new AppError('NOT_FOUND', { message: 'No live invitation code with that value.' });
    return row;
  }

  /** Revokes a code and issues a new one for the same organization with the same quota and expiry. */
  async rotateInvitation(rawCode: string): Promise<InvitationCodeRow> {
    const code = normalizeInvitationCode(rawCode);
    const replacement = await this.database.write(async (trx) => {
      const repo = createOrgRepo(trx);
      const old = await repo.revokeInvitation(code, this.now());
      if (!old) throw new AppError('NOT_FOUND', { message: 'No live invitation code with that value.' });
      return this.insertUniqueCode(repo, old.organization_id, { maxUses: old.max_uses, expiresAt: old.expires_at });
    });
    this.invitations.invalidate(code);
    return replacement;
  }
}

function invitationState(row: InvitationCodeRow, now: number): InvitationState {
  if (row.revoked_at !== null) return 'revoked';
  if (row.expires_at !== null && row.expires_at <= now) return 'expired';
  if (row.max_uses !== null && row.uses >= row.max_uses) return 'used_up';
  return 'valid';
}
