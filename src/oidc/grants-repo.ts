// The provider's durable records: grants (what a user allowed a client) and refresh tokens.
import type { Db } from '../db/database.js';

export interface StoredGrant {
  id: string;
  userId: number;
  clientId: string;
  payload: string;
  createdAt: number;
  expiresAt: number;
}

export interface StoredRefreshToken {
  id: string;
  grantId: string;
  payload: string;
  expiresAt: number;
  consumedAt: number | null;
}

export function createGrantRepo(db: Db) {
  return {
    async upsertGrant(grant: StoredGrant): Promise<void> {
      await db
        .insertInto('oidc_grants')
        .values({ id: grant.id, user_id: grant.userId, client_id: grant.clientId, payload: grant.payload, created_at: grant.createdAt, expires_at: grant.expiresAt })
        .onConflict((oc) => oc.column('id').doUpdateSet({ payload: grant.payload, expires_at: grant.expiresAt }))
        .execute();
    },
    async findGrant(id: string): Promise<StoredGrant | undefined> {
      const row = await db.selectFrom('oidc_grants').selectAll().where('id', '=', id).executeTakeFirst();
      return row && { id: row.id, userId: row.user_id, clientId: row.client_id, payload: row.payload, createdAt: row.created_at, expiresAt: row.expires_at };
    },
    /** The user's live grant for the client, newest first (there is normally one). */
    async latestGrantFor(userId: number, clientId: string, now: number): Promise<string | undefined> {
      const row = await db
        .selectFrom('oidc_grants')
        .select('id')
        .where('user_id', '=', userId)
        .where('client_id', '=', clientId)
        .where('expires_at', '>', now)
        .orderBy('created_at', 'desc')
        .executeTakeFirst();
      return row?.id;
    },
    grantsOf(userId: number, now: number): Promise<Array<{ id: string; client_id: string; payload: string; created_at: number }>> {
      return db
        .selectFrom('oidc_grants')
        .select(['id', 'client_id', 'payload', 'created_at'])
        .where('user_id', '=', userId)
        .where('expires_at', '>', now)
        .orderBy('created_at', 'asc')
        .execute();
    },
    /** Deletes grants and their refresh tokens; how many grants. */
    async deleteGrants(ids: readonly string[]): Promise<number> {
      if (ids.length === 0) return 0;
      await db.deleteFrom('oidc_refresh_tokens').where('grant_id', 'in', ids).execute();
      const result = await db.deleteFrom('oidc_grants').where('id', 'in', ids).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async grantIdsWhere(filter: { userId?: number; clientId?: string }): Promise<string[]> {
      let query = db.selectFrom('oidc_grants').select('id');
      if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
      if (filter.clientId !== undefined) query = query.where('client_id', '=', filter.clientId);
      return (await query.execute()).map((row) => row.id);
    },
    async insertRefreshToken(token: StoredRefreshToken): Promise<void> {
      await db
        .insertInto('oidc_refresh_tokens')
        .values({ id: token.id, grant_id: token.grantId, payload: token.payload, expires_at: token.expiresAt, consumed_at: token.consumedAt })
        .onConflict((oc) => oc.column('id').doUpdateSet({ payload: token.payload, expires_at: token.expiresAt }))
        .execute();
    },
    async findRefreshToken(id: string): Promise<StoredRefreshToken | undefined> {
      const row = await db.selectFrom('oidc_refresh_tokens').selectAll().where('id', '=', id).executeTakeFirst();
      return row && { id: row.id, grantId: row.grant_id, payload: row.payload, expiresAt: row.expires_at, consumedAt: row.consumed_at };
    },
    /** Marks a refresh token used, unless it already was; whether this call marked it. */
    async consumeRefreshToken(id: string, at: number): Promise<boolean> {
      const result = await db.updateTable('oidc_refresh_tokens').set({ consumed_at: at }).where('id', '=', id).where('consumed_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async deleteRefreshToken(id: string): Promise<void> {
      await db.deleteFrom('oidc_refresh_tokens').where('id', '=', id).execute();
    },
    async deleteRefreshTokensOf(grantId: string): Promise<void> {
      await db.deleteFrom('oidc_refresh_tokens').where('grant_id', '=', grantId).execute();
    },
    async deleteExpired(now: number): Promise<number> {
      const tokens = await db.deleteFrom('oidc_refresh_tokens').where('expires_at', '<=', now).executeTakeFirst();
      const expiredGrants = (await db.selectFrom('oidc_grants').select('id').where('expires_at', '<=', now).execute()).map((row) => row.id);
      const grants = expiredGrants.length ? await this.deleteGrants(expiredGrants) : 0;
      return Number(tokens.numDeletedRows) + grants;
    },
  };
}
