// The roster.export task: lists an organization's members into a CSV stored with the export. Read in
// pages by id (a large organization is never one query's worth of memory in the database driver);
// written once at the end, so a task that runs again simply writes a fresh list.
import { organizationMembers, type MemberRow } from '../accounts/service.js';
import type { Database } from '../db/database.js';
import { rowIdPayload, type TaskHandler } from '../tasks/registry.js';
import { PermanentTaskError } from '../tasks/types.js';
import { membersCsv } from './members-csv.js';

export const ROSTER_EXPORT_TASK = 'roster.export';
const PAGE_ROWS = 2000;

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
      const members: MemberRow[] = [];
      for (let afterId = 0; ; ) {
        if (context.signal.aborted) throw context.signal.reason ?? new Error('stopped');
        const page = await organizationMembers(db, request.organization_id, afterId, PAGE_ROWS);
        members.push(...page);
        await context.progress({ rows: members.length });
        if (page.length < PAGE_ROWS) break;
        afterId = page.at(-1)!.id;
      }
      const content = membersCsv(members);
      await deps.database.write((trx) => trx.updateTable('roster_exports').set({ rows: members.length, content, finished_at: now() }).where('id', '=', request.id).execute());
      return { export_id: request.id, rows: members.length };
    },
  };
}
