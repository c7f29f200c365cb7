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
    /** Inserts the users whose phone is not taken; returns the phones it inserted. */
    async insertIfAbsent(users: NewUser[]): Promise<Set<string>> {
      if (users.length === 0) return new Set();
      const inserted = await db
        .insertInto('users')
        .values(users)
        .onConflict((oc) => oc.column('phone').doNothing())
        .returning('phone')
        .execute();
      return new Set(inserted.map((r) => r.phone));
    },
    /** Users whose phone (3+ digits) or name contains the query, newest first; optionally in one organization. */
    search(query: string, limit: number, organizationId?: number): Promise<UserRow[]> {
      const q = query.trim();
      let select = db.selectFrom('users').selectAll().orderBy('id', 'desc').limit(limit);
      if (organizationId !== undefined) select = select.where('organization_id', '=', organizationId);
      if (q) {
        const digits = q.replace(/[^\d]/g, '');
        const pattern = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        select = select.where((eb) =>
          digits.length >= 3 ? eb.or([eb('phone', 'like', `%${digits}%`), eb('name', 'like', pattern)]) : eb('name', 'like', pattern),
        );
      }
      return select.execute();
    },
    async phoneExists(phone: string): Promise<boolean> {
      return (await db.selectFrom('users').select('id').where('phone', '=', phone).executeTakeFirst()) !== undefined;
    },
  };
}

export type AccountRepo = ReturnType<typeof createAccountRepo>;
