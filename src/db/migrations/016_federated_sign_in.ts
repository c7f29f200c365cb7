import type { Kysely, Migration } from 'kysely';

/**
 * A session signed in through an upstream provider (WeChat, WeCom, DingTalk, Feishu, OpenID Connect)
 * records when, like password_at and sms_at: re-authentication, OpenID Connect's amr ("fed") and
 * auth_time read it.
 */
export const federatedSignIn: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('sessions').addColumn('federated_at', 'bigint').execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.alterTable('sessions').dropColumn('federated_at').execute();
  },
};
