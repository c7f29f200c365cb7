import { randomUUID } from 'node:crypto';
import type { Kysely, Migration } from 'kysely';
import { withIdColumn } from './columns.js';

/**
 * Single sign-on: each account's stable opaque subject (what other systems know it by, never its
 * phone), the OpenID Connect clients, the provider's durable records (grants and refresh tokens; the
 * short-lived ones live in the shared store), its signing keys (sealed with SECRET_KEY), and the
 * forward-auth rules per protected host.
 */
export const singleSignOn: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('users').addColumn('subject', 'text').execute();
    const users = await db.selectFrom('users').select('id').execute();
    for (const { id } of users as Array<{ id: number }>) {
      await db.updateTable('users').set({ subject: randomUUID() }).where('id', '=', id).execute();
    }
    await db.schema.createIndex('users_subject').unique().on('users').column('subject').execute();

    await withIdColumn(db, db.schema.createTable('oidc_clients'))
      .addColumn('client_id', 'text', (c) => c.notNull().unique())
      .addColumn('name', 'text', (c) => c.notNull())
      // SHA-256 of the secret (a 256-bit random value needs no slow hash); null: a public client.
      .addColumn('secret_hash', 'text')
      .addColumn('redirect_uris', 'text', (c) => c.notNull())
      .addColumn('post_logout_redirect_uris', 'text', (c) => c.notNull())
      .addColumn('backchannel_logout_uri', 'text')
      .addColumn('first_party', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('grant_types', 'text', (c) => c.notNull())
      .addColumn('allowed_organization_ids', 'text')
      .addColumn('allowed_roles', 'text')
      .addColumn('created_by', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('secret_rotated_at', 'bigint')
      .addColumn('disabled_at', 'bigint')
      .execute();

    await db.schema
      .createTable('oidc_grants')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('oidc_grants_by_user').on('oidc_grants').columns(['user_id', 'client_id']).execute();
    await db.schema.createIndex('oidc_grants_by_client').on('oidc_grants').column('client_id').execute();
    await db.schema.createIndex('oidc_grants_by_expiry').on('oidc_grants').column('expires_at').execute();

    await db.schema
      .createTable('oidc_refresh_tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('grant_id', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('consumed_at', 'bigint')
      .execute();
    await db.schema.createIndex('oidc_refresh_tokens_by_grant').on('oidc_refresh_tokens').column('grant_id').execute();
    await db.schema.createIndex('oidc_refresh_tokens_by_expiry').on('oidc_refresh_tokens').column('expires_at').execute();

    await db.schema
      .createTable('oidc_signing_keys')
      .addColumn('kid', 'text', (c) => c.primaryKey())
      .addColumn('alg', 'text', (c) => c.notNull())
      // The private JWK, sealed with SECRET_KEY (security/seal.ts).
      .addColumn('sealed_jwk', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      // Published in JWKS from created_at; used for signing from activates_at (after every cache has seen it).
      .addColumn('activates_at', 'bigint', (c) => c.notNull())
      // Not used for signing after this; still published until retires_at.
      .addColumn('superseded_at', 'bigint')
      .addColumn('retires_at', 'bigint')
      .execute();

    await db.schema
      .createTable('forward_auth_rules')
      .addColumn('host', 'text', (c) => c.primaryKey())
      .addColumn('allowed_organization_ids', 'text')
      .addColumn('allowed_roles', 'text')
      .addColumn('created_by', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('forward_auth_rules').execute();
    await db.schema.dropTable('oidc_signing_keys').execute();
    await db.schema.dropTable('oidc_refresh_tokens').execute();
    await db.schema.dropTable('oidc_grants').execute();
    await db.schema.dropTable('oidc_clients').execute();
    await db.schema.dropIndex('users_subject').execute();
    await db.schema.alterTable('users').dropColumn('subject').execute();
  },
};
