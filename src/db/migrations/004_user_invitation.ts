import type { Kysely, Migration } from 'kysely';

/** Which invitation code admitted each account: the admin console's live view counts registrations per code. */
export const userInvitation: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('users').addColumn('invitation_code', 'text').execute();
    await db.schema.createIndex('users_by_invitation').on('users').columns(['invitation_code', 'created_at']).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropIndex('users_by_invitation').execute();
    await db.schema.alterTable('users').dropColumn('invitation_code').execute();
  },
};
