// Every query of the sign_in_providers table (the same statements on SQLite and PostgreSQL).
import type { Db } from '../db/database.js';
import type { SignInProviderRow } from '../db/schema.js';

export function createSignInProviderRepo(db: Db) {
  return {
    find: (name: string) => db.selectFrom('sign_in_providers').selectAll().where('name', '=', name).executeTakeFirst(),
    list: () => db.selectFrom('sign_in_providers').selectAll().orderBy('name').execute(),
    enabled: () => db.selectFrom('sign_in_providers').select(['name', 'extra']).where('enabled', '=', 1).orderBy('name').execute(),
    /** Inserts the row, or replaces every column of an existing one but its creation time. */
    upsert: (row: SignInProviderRow) =>
      db
        .insertInto('sign_in_providers')
        .values(row)
        .onConflict((oc) =>
          oc.column('name').doUpdateSet({
            app_id: row.app_id,
            app_secret: row.app_secret,
            authorize_url: row.authorize_url,
            api_url: row.api_url,
            extra: row.extra,
            bound_organization_id: row.bound_organization_id,
            updated_at: row.updated_at,
          }),
        )
        .returningAll()
        .executeTakeFirstOrThrow(),
    setEnabled: (name: string, enabled: boolean, now: number) =>
      db.updateTable('sign_in_providers').set({ enabled: enabled ? 1 : 0, updated_at: now }).where('name', '=', name).returningAll().executeTakeFirst(),
  };
}
