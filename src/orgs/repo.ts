import type { Db } from '../db/database.js';
import type { InvitationCodeRow, OrganizationRow } from '../db/schema.js';

export interface InvitationWithOrg extends InvitationCodeRow {
  organization_name: string;
  register_requires_sms: number;
}

export function createOrgRepo(db: Db) {
  return {
    async insertOrganization(name: string, now: number): Promise<OrganizationRow> {
      return db.insertInto('organizations').values({ name, created_at: now }).returningAll().executeTakeFirstOrThrow();
    },
    async insertInvitationCode(row: Omit<InvitationCodeRow, 'uses' | 'sms_sends'>): Promise<InvitationCodeRow> {
      return db.insertInto('invitation_codes').values(row).returningAll().executeTakeFirstOrThrow();
    },
    async findOrganization(id: number): Promise<OrganizationRow | undefined> {
      return db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async listOrganizations(): Promise<Array<OrganizationRow & { user_count: number }>> {
      return db
        .selectFrom('organizations as o')
        .selectAll('o')
        .select((eb) => eb.selectFrom('users').whereRef('users.organization_id', '=', 'o.id').select(eb.fn.countAll<number>().as('n')).as('user_count'))
        .orderBy('o.id')
        .execute() as Promise<Array<OrganizationRow & { user_count: number }>>;
    },
    async listInvitationCodes(organizationId: number): Promise<InvitationCodeRow[]> {
      return db.selectFrom('invitation_codes').selectAll().where('organization_id', '=', organizationId).orderBy('created_at').execute();
    },
    async findInvitation(code: string): Promise<InvitationWithOrg | undefined> {
      return db
        .selectFrom('invitation_codes as c')
        .innerJoin('organizations as o', 'o.id', 'c.organization_id')
        .selectAll('c')
        .select(['o.name as organization_name', 'o.register_requires_sms'])
        .where('c.code', '=', code)
        .executeTakeFirst();
    },
    /**
     * Uses one admission of a live code with room left; undefined when it has none. Returns the
     * organization's SMS setting as it is now, for the caller to re-check what a cache told it.
     */
    async takeInvitationUse(code: string, now: number): Promise<{ organization_id: number; register_requires_sms: number } | undefined> {
      return db
        .updateTable('invitation_codes')
        .set((eb) => ({ uses: eb('uses', '+', 1) }))
        .where('code', '=', code)
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
        .where((eb) => eb.or([eb('max_uses', 'is', null), eb('uses', '<', eb.ref('max_uses'))]))
        .returning((eb) => [
          'organization_id',
          eb.selectFrom('organizations').select('register_requires_sms').whereRef('organizations.id', '=', 'invitation_codes.organization_id').as('register_requires_sms'),
        ])
        .executeTakeFirst() as Promise<{ organization_id: number; register_requires_sms: number } | undefined>;
    },
    /**
     * Counts one registration code sent by SMS with a live code of an organization that checks phone
     * numbers, while the code has places left and has sent fewer than `sendsPerPlace` per place of its
     * quota; undefined when it may not send one.
     */
    async takeSmsSend(code: string, now: number, sendsPerPlace: number): Promise<{ organization_id: number } | undefined> {
      return db
        .updateTable('invitation_codes')
        .set((eb) => ({ sms_sends: eb('sms_sends', '+', 1) }))
        .where('code', '=', code)
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
        .where((eb) => eb.or([eb('max_uses', 'is', null), eb.and([eb('uses', '<', eb.ref('max_uses')), eb('sms_sends', '<', eb(eb.ref('max_uses'), '*', sendsPerPlace))])]))
        .where((eb) =>
          eb.exists(eb.selectFrom('organizations').select('organizations.id').whereRef('organizations.id', '=', 'invitation_codes.organization_id').where('organizations.register_requires_sms', '=', 1)),
        )
        .returning('organization_id')
        .executeTakeFirst();
    },
    async revokeInvitation(code: string, now: number): Promise<InvitationCodeRow | undefined> {
      return db.updateTable('invitation_codes').set({ revoked_at: now }).where('code', '=', code).where('revoked_at', 'is', null).returningAll().executeTakeFirst();
    },
    /** Changes a live code's quota or expiry (a field left undefined stays); undefined when there is no live code. */
    async changeInvitationLimits(code: string, changes: { max_uses?: number | null; expires_at?: number | null }): Promise<InvitationCodeRow | undefined> {
      return db.updateTable('invitation_codes').set(changes).where('code', '=', code).where('revoked_at', 'is', null).returningAll().executeTakeFirst();
    },
    async countOrganizations(): Promise<number> {
      const row = await db.selectFrom('organizations').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

export type OrgRepo = ReturnType<typeof createOrgRepo>;

export interface OrganizationChanges {
  name?: string;
  register_requires_sms?: number;
}

/** Changes an organization's settings; undefined when there is no such organization. */
export async function updateOrganization(db: Db, organizationId: number, changes: OrganizationChanges): Promise<OrganizationRow | undefined> {
  return db.updateTable('organizations').set(changes).where('id', '=', organizationId).returningAll().executeTakeFirst();
}
