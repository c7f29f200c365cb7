import type { Kysely, Migration } from 'kysely';
import { withIdColumn } from './columns.js';

/**
 * Passkeys (WebAuthn credentials): one row per credential, its public key and what the authenticator
 * last said of it (signature counter, backup flags), so that a cloned authenticator's stale counter
 * is noticed. A session signed in with a passkey records when, and when the authenticator verified its
 * user (PIN or biometric): such a passkey counts as two factors.
 */
export const passkeys: Migration = {
  async up(db: Kysely<any>) {
    await withIdColumn(db, db.schema.createTable('passkeys'))
      .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
      // base64url, as the browser's credential.id: looked up on every passkey sign-in.
      .addColumn('credential_id', 'text', (c) => c.notNull().unique())
      // The COSE public key, base64url (text on both dialects: the same statements everywhere).
      .addColumn('public_key', 'text', (c) => c.notNull())
      .addColumn('counter', 'bigint', (c) => c.notNull().defaultTo(0))
      // JSON array of transports the browser reported (internal, hybrid, usb…), for allowCredentials.
      .addColumn('transports', 'text', (c) => c.notNull().defaultTo('[]'))
      // singleDevice or multiDevice (a synced passkey).
      .addColumn('device_type', 'text', (c) => c.notNull())
      .addColumn('backed_up', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_used_at', 'bigint')
      .execute();
    await db.schema.createIndex('passkeys_by_user').on('passkeys').column('user_id').execute();
    await db.schema.alterTable('sessions').addColumn('passkey_at', 'bigint').execute();
    await db.schema.alterTable('sessions').addColumn('passkey_verified_at', 'bigint').execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.alterTable('sessions').dropColumn('passkey_verified_at').execute();
    await db.schema.alterTable('sessions').dropColumn('passkey_at').execute();
    await db.schema.dropTable('passkeys').execute();
  },
};
