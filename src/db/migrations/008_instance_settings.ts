import type { Kysely, Migration } from 'kysely';

/** Facts about the installation that every server must agree on (the secret key's fingerprint). */
export const instanceSettings: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('instance_settings')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('instance_settings').execute();
  },
};
