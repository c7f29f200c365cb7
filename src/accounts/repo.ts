import type { Db } from '../db/database.js';
import type { NewUser, UserRow } from '../db/schema.js';

export function createAccountRepo(db: Db) {
  return {
    insertUser(user: NewUser): Promise<UserRow> {
      return db.insertInto('users').values(user).returningAll().executeTakeFirstOrThrow();
    },
    findByPhone(phone: string): Promise<UserRow | undefined> {
      return db.selectFrom('users').selectAll().where('phone', '=', phone).executeTakeFirst();
    },
    findById(id: number): Promise<UserRow | undefined> {
      return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async phoneExists(phone: string): Promise<boolean> {
      return (await db.selectFrom('users').select('id').where('phone', '=', phone).executeTakeFirst()) !== undefined;
    },
  };
}

export type AccountRepo = ReturnType<typeof createAccountRepo>;
