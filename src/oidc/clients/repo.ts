// Every query of the oidc_clients table (the same statements on SQLite and PostgreSQL).
import type { Db } from '../../db/database.js';
import type { OidcClientRow, OidcClientsTable } from '../../db/schema.js';

/** What an update may change: everything but the row's identity and creation. */
export type OidcClientChanges = Partial<Omit<OidcClientsTable, 'id' | 'client_id' | 'created_by' | 'created_at'>>;

export function createClientRepo(db: Db) {
  return {
    insert: (row: Omit<OidcClientRow, 'id'>) => db.insertInto('oidc_clients').values(row).returningAll().executeTakeFirstOrThrow(),
    find: (clientId: string) => db.selectFrom('oidc_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst(),
    /** Newest first: the app just registered is the one an administrator looks for. */
    list: () => db.selectFrom('oidc_clients').selectAll().orderBy('id', 'desc').execute(),
    update: (clientId: string, changes: OidcClientChanges) =>
      db.updateTable('oidc_clients').set(changes).where('client_id', '=', clientId).returningAll().executeTakeFirst(),
    delete: (clientId: string) => db.deleteFrom('oidc_clients').where('client_id', '=', clientId).returningAll().executeTakeFirst(),
  };
}
