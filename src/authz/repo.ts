// Every query of the forward_auth_rules table.
import type { Db } from '../db/database.js';
import type { ForwardAuthRuleRow } from '../db/schema.js';

export function createForwardAuthRuleRepo(db: Db) {
  return {
    list: (): Promise<ForwardAuthRuleRow[]> => db.selectFrom('forward_auth_rules').selectAll().orderBy('host').execute(),
    /** Creates the host's rule, or replaces what an existing one allows (keeping who created it and when). */
    put: (row: ForwardAuthRuleRow): Promise<ForwardAuthRuleRow> =>
      db
        .insertInto('forward_auth_rules')
        .values(row)
        .onConflict((oc) =>
          oc.column('host').doUpdateSet({
            allowed_organization_ids: row.allowed_organization_ids,
            allowed_roles: row.allowed_roles,
            updated_at: row.updated_at,
          }),
        )
        .returningAll()
        .executeTakeFirstOrThrow(),
    remove: (host: string): Promise<ForwardAuthRuleRow | undefined> => db.deleteFrom('forward_auth_rules').where('host', '=', host).returningAll().executeTakeFirst(),
  };
}
