// The roster.import task: creates the accounts of an uploaded roster in chunks. Each chunk's accounts,
// its report rows and the progress after it commit in one transaction, so a task that runs again (its
// worker died) resumes after the last committed chunk and reports every row exactly once; running the
// same file again creates nothing twice (taken phones are reported as "exists"). A chunk writes its
// own rows and a few counters: the work per chunk does not grow with the file.
import type { CountryCode } from 'libphonenumber-js';
import { normalizePhone } from '../text/phone.js';
import { normalizeName } from '../accounts/rules.js';
import { insertRosterAccounts } from '../accounts/service.js';
import type { AuditLog } from '../audit/service.js';
import type { Database } from '../db/database.js';
import type { Role } from '../db/schema.js';
import { PermanentTaskError } from '../tasks/types.js';
import { rowIdPayload, type TaskHandler } from '../tasks/registry.js';
import { appendChunk, parseCounts, settledPhones, type ImportProgress } from './progress.js';
import { parseRoster, rosterRole } from './roster-file.js';
import { emptyReport, type RowOutcome } from './report.js';

export const ROSTER_IMPORT_TASK = 'roster.import';
const CHUNK_ROWS = 1000;

export function rosterImportHandler(deps: { database: Database; audit: AuditLog; defaultRegion: CountryCode; maxRows: number; now?: () => number }): TaskHandler<{ import_id: number }> {
  const now = deps.now ?? Date.now;
  const { db } = deps.database;
  return {
    type: ROSTER_IMPORT_TASK,
    public: false,
    maxAttempts: 5,
    parse: (payload) => rowIdPayload(payload, 'import_id'),
    async run(payload, context) {
      const upload = await db
        .selectFrom('roster_imports')
        .select(['id', 'organization_id', 'content', 'created_by', 'rows', 'done', 'counts', 'purged_at'])
        .where('id', '=', payload.import_id)
        .executeTakeFirst();
      if (!upload) throw new PermanentTaskError(`import ${payload.import_id} does not exist`);
      if (upload.purged_at !== null) throw new PermanentTaskError(`import ${payload.import_id}: its file was deleted after IMPORT_RETENTION_DAYS`);
      // Parsed once per run of the task, not per chunk.
      const rows = parseRoster(upload.content, deps.maxRows);
      if (upload.rows === null) await deps.database.write((trx) => trx.updateTable('roster_imports').set({ rows: rows.length }).where('id', '=', upload.id).execute());
      let progress: ImportProgress = { done: upload.done, counts: parseCounts(upload.counts) ?? emptyReport(rows.length).counts };
      // Resuming: the phones earlier chunks settled, so that a later row with one is a duplicate, as in one run.
      const seen = progress.done > 0 ? await settledPhones(db, upload.id) : new Set<string>();

      for (let start = progress.done; start < rows.length; start += CHUNK_ROWS) {
        if (context.signal.aborted) throw context.signal.reason ?? new Error('stopped');
        const chunk = rows.slice(start, start + CHUNK_ROWS);
        const outcomes: RowOutcome[] = [];
        const people: Array<{ phone: string; name: string; role: Role }> = [];
        for (const row of chunk) {
          const name = normalizeName(row.name);
          const phone = normalizePhone(row.phone.replace(/\s+/g, ''), deps.defaultRegion);
          const role = rosterRole(row.role);
          const base = { row: row.row, name: row.name, phone: phone?.e164 ?? null };
          if (!phone) outcomes.push({ ...base, result: 'invalid_phone', input_phone: row.phone });
          else if (!name) outcomes.push({ ...base, result: 'invalid_name' });
          else if (!role) outcomes.push({ ...base, result: 'invalid_role' });
          else if (seen.has(phone.e164)) outcomes.push({ ...base, result: 'duplicate_in_file' });
          else {
            seen.add(phone.e164);
            people.push({ phone: phone.e164, name, role });
            outcomes.push({ ...base, result: 'created' }); // "exists" when the insert finds the phone taken
          }
        }
        const before = progress;
        // Built inside the transaction from its own results, so that a retried transaction starts over cleanly.
        progress = await deps.database.write(async (trx): Promise<ImportProgress> => {
          const created = await insertRosterAccounts(trx, upload.organization_id, people, now());
          // A roster can make administrators: each one is in the audit log, in the uploader's name.
          for (const person of people) {
            const id = person.role !== 'user' ? created.get(person.phone) : undefined;
            if (id !== undefined) await deps.audit.insertWith(trx, { event: 'admin.created', actor: upload.created_by, target: `user:${id}`, detail: { organization_id: upload.organization_id, role: person.role, via: 'roster', import_id: upload.id } });
          }
          const settled = outcomes.map((o): RowOutcome => (o.result === 'created' && !created.has(o.phone!) ? { ...o, result: 'exists' } : o));
          const counts = { ...before.counts };
          for (const o of settled) counts[o.result] += 1;
          const next = { done: start + chunk.length, counts };
          await appendChunk(trx, upload.id, settled, next);
          return next;
        });
        await context.progress({ done: progress.done, total: rows.length, counts: progress.counts });
      }
      return { import_id: upload.id, total: rows.length, counts: progress.counts };
    },
  };
}
