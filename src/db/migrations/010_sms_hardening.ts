import type { Kysely, Migration } from 'kysely';

/**
 * SMS hardening: how many registration codes an invitation code has had sent (its places are their
 * budget), and when an account's phone number was last proven with an SMS code (null: never, so the
 * password may have been set by someone who typed another person's number).
 */
export const smsHardening: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('invitation_codes').addColumn('sms_sends', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('users').addColumn('phone_verified_at', 'bigint').execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.alterTable('users').dropColumn('phone_verified_at').execute();
    await db.schema.alterTable('invitation_codes').dropColumn('sms_sends').execute();
  },
};
