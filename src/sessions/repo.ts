import type { Db } from '../db/database.js';
import type { SessionRow } from '../db/schema.js';

export type ProofColumn = 'password_at' | 'sms_at' | 'second_factor_at' | 'federated_at' | 'passkey_at' | 'passkey_verified_at';

export function createSessionRepo(db: Db) {
  return {
    insert(row: Omit<SessionRow, 'id'>): Promise<SessionRow> {
      return db.insertInto('sessions').values(row).returningAll().executeTakeFirstOrThrow();
    },
    findByTokenHash(tokenHash: string): Promise<SessionRow | undefined> {
      return db.selectFrom('sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    },
    async touch(id: number, lastSeenAt: number, expiresAt: number): Promise<void> {
      await db.updateTable('sessions').set({ last_seen_at: lastSeenAt, expires_at: expiresAt }).where('id', '=', id).execute();
    },
    async setProofTime(id: number, column: ProofColumn, at: number): Promise<boolean> {
      const result = await db.updateTable('sessions').set({ [column]: at }).where('id', '=', id).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    listLive(userId: number, now: number): Promise<SessionRow[]> {
      return db
        .selectFrom('sessions')
        .selectAll()
        .where('user_id', '=', userId)
        .where('expires_at', '>', now)
        .where('absolute_expires_at', '>', now)
        .orderBy('last_seen_at', 'desc')
        .execute();
    },
    async deleteOne(userId: number, id: number): Promise<boolean> {
      const result = await db.deleteFrom('sessions').where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    /** Ends every session of a user, or every one but `exceptId` (the device making the change); returns how many. */
    async deleteForUser(userId: number, exceptId: number | null = null): Promise<number> {
      let query = db.deleteFrom('sessions').where('user_id', '=', userId);
      if (exceptId !== null) query = query.where('id', '!=', exceptId);
      return Number((await query.executeTakeFirst()).numDeletedRows);
    },
    async ownerOf(id: number): Promise<number | undefined> {
      return (await db.selectFrom('sessions').select('user_id').where('id', '=', id).executeTakeFirst())?.user_id;
    },
    /** Whether there was such a session. */
    async deleteById(id: number): Promise<boolean> {
      const result = await db.deleteFrom('sessions').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async deleteExpired(now: number): Promise<number> {
      const result = await db
        .deleteFrom('sessions')
        .where((eb) => eb.or([eb('expires_at', '<=', now), eb('absolute_expires_at', '<=', now)]))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
