// Every query of the identities table (the same statements on SQLite and PostgreSQL).
import type { Db } from '../db/database.js';
import type { IdentityRow } from '../db/schema.js';

export function createIdentityRepo(db: Db) {
  return {
    find: (provider: string, subject: string) => db.selectFrom('identities').selectAll().where('provider', '=', provider).where('subject', '=', subject).executeTakeFirst(),
    /** The identity of `subject` under any of `providers` (WeChat's website and in-app logins share a unionid), oldest first. */
    findAmong: (providers: readonly string[], subject: string) =>
      db.selectFrom('identities').selectAll().where('provider', 'in', providers).where('subject', '=', subject).orderBy('id').executeTakeFirst(),
    findById: (id: number) => db.selectFrom('identities').selectAll().where('id', '=', id).executeTakeFirst(),
    insert: (row: Omit<IdentityRow, 'id'>) => db.insertInto('identities').values(row).returningAll().executeTakeFirstOrThrow(),
    /** Oldest first: the order they were linked in. */
    listFor: (userId: number) => db.selectFrom('identities').selectAll().where('user_id', '=', userId).orderBy('id').execute(),
    /**
     * Whether the account has a password, read with its row locked until the transaction ends where
     * the database can (PostgreSQL: FOR UPDATE; SQLite's write transaction already excludes every other
     * writer), so that two unlinks at once are decided one after the other.
     */
    async ownerHasPassword(userId: number, lock: boolean): Promise<boolean | undefined> {
      let query = db.selectFrom('users').select('password_hash').where('id', '=', userId);
      if (lock) query = query.forUpdate();
      const row = await query.executeTakeFirst();
      return row === undefined ? undefined : row.password_hash !== null;
    },
    countFor: async (userId: number) => Number((await db.selectFrom('identities').select((eb) => eb.fn.countAll().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow()).n),
    delete: (id: number, userId: number) => db.deleteFrom('identities').where('id', '=', id).where('user_id', '=', userId).returningAll().executeTakeFirst(),
    touch: (id: number, at: number) => db.updateTable('identities').set({ last_sign_in_at: at }).where('id', '=', id).execute(),
  };
}
