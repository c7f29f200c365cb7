// Every query of the passkeys table (the same statements on SQLite and PostgreSQL).
import type { Db } from '../db/database.js';
import type { PasskeyRow } from '../db/schema.js';

export function createPasskeyRepo(db: Db) {
  return {
    insert: (row: Omit<PasskeyRow, 'id'>) => db.insertInto('passkeys').values(row).returningAll().executeTakeFirstOrThrow(),
    findByCredentialId: (credentialId: string) => db.selectFrom('passkeys').selectAll().where('credential_id', '=', credentialId).executeTakeFirst(),
    /** Oldest first: the order they were added in. */
    listFor: (userId: number) => db.selectFrom('passkeys').selectAll().where('user_id', '=', userId).orderBy('id').execute(),
    hasAny: async (userId: number) => (await db.selectFrom('passkeys').select('id').where('user_id', '=', userId).limit(1).executeTakeFirst()) !== undefined,
    rename: (id: number, userId: number, name: string) => db.updateTable('passkeys').set({ name }).where('id', '=', id).where('user_id', '=', userId).returningAll().executeTakeFirst(),
    delete: (id: number, userId: number) => db.deleteFrom('passkeys').where('id', '=', id).where('user_id', '=', userId).returningAll().executeTakeFirst(),
    /** What the authenticator said at a sign-in: its counter and backup state. */
    used: (id: number, changes: { counter: number; backed_up: number; device_type: PasskeyRow['device_type']; last_used_at: number }) =>
      db.updateTable('passkeys').set(changes).where('id', '=', id).execute(),
  };
}
