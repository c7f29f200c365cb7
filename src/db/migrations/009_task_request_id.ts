import type { Kysely, Migration } from 'kysely';

/** The request that submitted a task, so that the worker's log lines for it name the same request id. */
export const taskRequestId: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('tasks').addColumn('request_id', 'text').execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.alterTable('tasks').dropColumn('request_id').execute();
  },
};
