import type { Kysely, Migration } from 'kysely';

/** Two-factor sign-in with an authenticator app: the account's sealed TOTP secret and its recovery codes. */
export const twoFactor: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('users').addColumn('totp_secret', 'text').execute();
    await db.schema.alterTable('users').addColumn('totp_enabled_at', 'bigint').execute();
    await db.schema.alterTable('users').addColumn('totp_recovery_codes', 'text').execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.alterTable('users').dropColumn('totp_recovery_codes').execute();
    await db.schema.alterTable('users').dropColumn('totp_enabled_at').execute();
    await db.schema.alterTable('users').dropColumn('totp_secret').execute();
  },
};
