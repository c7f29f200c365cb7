// Facts about the installation kept in the durable database, so that every server reads the same.
import type { Db } from './database.js';

/** The value stored under `name`; the first caller's value wins when several servers start at once. */
export async function settleInstanceSetting(db: Db, name: string, proposed: string): Promise<string> {
  await db
    .insertInto('instance_settings')
    .values({ name, value: proposed, created_at: Date.now() })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db.selectFrom('instance_settings').select('value').where('name', '=', name).executeTakeFirstOrThrow();
  return row.value;
}
