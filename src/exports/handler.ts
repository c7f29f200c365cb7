// The roster.export task: lists an organization's members into a CSV stored with the export, written
// once at the end, so a task that runs again simply writes a fresh list.
import type { Database } from '../db/database.js';
import { rowIdPayload, type TaskHandler } from '../tasks/registry.js';
import { PermanentTaskError } from '../tasks/types.js';
import { allMembers, membersCsv } from './members-csv.js';

export const ROSTER_EXPORT_TASK = 'roster.export';

export function rosterExportHandler(deps: { database: Database; now?: () => number }): TaskHandler<{ export_id: number }> {
  const now = deps.now ?? Date.now;
  const { db } = deps.database;
  return {
    type: ROSTER_EXPORT_TASK,
    public: false,
    maxAttempts: 5,
    parse: (payload) => rowIdPayload(payload, 'export_id'),
    async run(payload, context) {
      const request = await db.selectFrom('roster_exports').selectAll().where('id', '=', payload.export_id).executeTakeFirst();
      if (!request) throw new PermanentTaskError(`export ${payload.export_id} does not exist`);
      const members = await allMembers(db, request.organization_id, async (rows) => {
        if (context.signal.aborted) throw context.signal.reason ?? new Error('stopped');
        await context.progress({ rows });
      });
      const content = membersCsv(members);
      await deps.database.write((trx) => trx.updateTable('roster_exports').set({ rows: members.length, content, finished_at: now() }).where('id', '=', request.id).execute());
      return { export_id: request.id, rows: members.length };
    },
  };
}
