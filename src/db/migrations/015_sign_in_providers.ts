import type { Kysely, Migration } from 'kysely';
import { withIdColumn } from './columns.js';

/**
 * Sign-in with upstream identity providers (WeChat, WeCom, DingTalk, Feishu, any OpenID Connect
 * provider): each provider's settings as an administrator set them (its app secret sealed with
 * SECRET_KEY), and the external identities linked to accounts, one row per provider and subject —
 * never merged into an account by name.
 */
export const signInProviders: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('sign_in_providers')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'text', (c) => c.notNull())
      // Sealed with SECRET_KEY (security/seal.ts): a copy of the database cannot call the provider.
      .addColumn('app_secret', 'text', (c) => c.notNull())
      .addColumn('authorize_url', 'text')
      .addColumn('api_url', 'text')
      // JSON object of provider-specific strings (WeCom's agent id, an OIDC issuer and scopes).
      .addColumn('extra', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('bound_organization_id', 'integer', (c) => c.references('organizations.id').onDelete('set null'))
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();

    await withIdColumn(db, db.schema.createTable('identities'))
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('display_name', 'text')
      .addColumn('avatar_url', 'text')
      // JSON object of what the provider told (openid beside unionid, corp id…), never secrets.
      .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_sign_in_at', 'bigint')
      .addUniqueConstraint('identities_provider_subject', ['provider', 'subject'])
      .execute();
    await db.schema.createIndex('identities_by_user').on('identities').column('user_id').execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('identities').execute();
    await db.schema.dropTable('sign_in_providers').execute();
  },
};
