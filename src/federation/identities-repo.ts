// Every query of the identities table (the same statements on SQLite and PostgreSQL).
import type { Db } from '../db/database.js';
import type { IdentityRow } from '../db/schema.js';

export function createIdentityRepo(db: Db) {
  return {
    find: (provider: string, subject: string) => db.selectFrom('identities').selectAll().where('provider', '=', provider).where('subject', '=', subject).executeTakeFirst(),
    findById: (id: number) => db.selectFrom('identities').selectAll().where('id', '=', id).executeTakeFirst(),
    insert: (row: Omit<IdentityRow, 'id'>) => db.insertInto('identities').values(row).returningAll().executeTakeFirstOrThrow(),
    /** Oldest first: the order they were linked in. */
    listFor: (userId: number) => db.selectFrom('identities').selectAll().where('user_id', '=', userId).orderBy('id').execute(),
    countFor: async (userId: number) => Number((await db.selectFrom('identities').select((eb) => eb.fn.countAll().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow()).n),
    delete: (id: number, userId: number) => db.deleteFrom('identities').where('id', '=', id).where('user_id', '=', userId).returningAll().executeTakeFirst(),
    touch: (id: number, at: number) => db.updateTable('identities').set({ last_sign_in_at: at }).where('id', '=', id).execute(),
  };
}
