import type { Db } from '../db/database.js';
import type { ApiKeyRow } from '../db/schema.js';

export function createApiKeyRepo(db: Db) {
  return {
    insert: (row: Omit<ApiKeyRow, 'id'>) => db.insertInto('api_keys').values(row).returningAll().executeTakeFirstOrThrow(),
    findByPrefix: (prefix: string) => db.selectFrom('api_keys').selectAll().where('prefix', '=', prefix).executeTakeFirst(),
    list: () => db.selectFrom('api_keys').selectAll().orderBy('id', 'desc').execute(),
    revoke: (id: number, at: number) =>
      db.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).returningAll().executeTakeFirst(),
    /** Revokes every live key whose creator is `userId`; the revoked rows. */
    revokeCreatedBy: (userId: number, at: number) =>
      db.updateTable('api_keys').set({ revoked_at: at }).where('created_by', '=', userId).where('revoked_at', 'is', null).returningAll().execute(),
    touch: (id: number, at: number) => db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute(),
  };
}
