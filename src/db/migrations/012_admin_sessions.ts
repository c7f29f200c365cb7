import type { Kysely, Migration } from 'kysely';

/**
 * How each session was authenticated, factor by factor and when (the console needs a second factor,
 * sensitive actions a recent proof), and API keys' expiry.
 */
export const adminSessions: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('sessions').addColumn('password_at', 'bigint').execute();
    await db.schema.alterTable('sessions').addColumn('sms_at', 'bigint').execute();
    await db.schema.alterTable('sessions').addColumn('second_factor_at', 'bigint').execute();
    await db.schema.alterTable('api_keys').addColumn('expires_at', 'bigint').execute();
    // Keys made before keys expired get the default lifetime from now: scripts keep working for 90
    // days, time enough to replace their keys, instead of stopping at the upgrade.
    const in90Days = Date.now() + 90 * 86_400_000;
    await db.updateTable('api_keys').set({ expires_at: in90Days }).where('revoked_at', 'is', null).execute();
    await db.schema.createIndex('api_keys_by_creator').on('api_keys').column('created_by').execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropIndex('api_keys_by_creator').execute();
    await db.schema.alterTable('api_keys').dropColumn('expires_at').execute();
    await db.schema.alterTable('sessions').dropColumn('second_factor_at').execute();
    await db.schema.alterTable('sessions').dropColumn('sms_at').execute();
    await db.schema.alterTable('sessions').dropColumn('password_at').execute();
  },
};
