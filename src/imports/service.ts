// Roster uploads: the file is decoded and checked at once (a file that is not a roster is a 400, not a
// task that dies), stored, and imported by a roster.import task; its status and report are read here.
import type { Database } from '../db/database.js';
import type { RosterImportRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { AuditLog } from '../audit/service.js';
import type { OrgService } from '../orgs/service.js';
import { sha256Hex } from '../security/tokens.js';
import type { TaskService } from '../tasks/service.js';
import { taskSummary, type TaskRecord, type TaskSummary } from '../tasks/types.js';
import { ROSTER_IMPORT_TASK } from './handler.js';
import { parseCounts, readReport } from './progress.js';
import type { ImportReport } from './report.js';
import { decodeRosterBytes, parseRoster, RosterFormatError, rosterRole } from './roster-file.js';
import { actorName, type Principal } from '../principal.js';
import { requireOrganization, requirePlatform } from '../principal.js';

/** Bulk work waits behind interactive work such as SMS delivery. */
const IMPORT_PRIORITY = 3;

export interface ImportView {
  id: number;
  organization_id: number;
  file_name: string;
  encoding: string;
  rows: number;
  created_by: string | null;
  created_at: string;
  task: TaskSummary | null;
  counts: ImportReport['counts'] | null;
  /** When the retention sweep deleted the file and the per-row report; null while they are kept. */
  file_deleted_at: string | null;
}

/** An import without its file (which only the task reads). */
type ImportRecord = Omit<RosterImportRow, 'content' | 'content_sha256'>;

export class ImportService {
  constructor(
    private readonly database: Database,
    private readonly deps: { orgs: OrgService; tasks: TaskService; audit: AuditLog; maxRows: number; retentionDays: number; now?: () => number },
  ) {}

  /**
   * An administrator uploads a roster for an organization they administer. A roster can make platform
   * administrators (role admin): only a platform administrator's may, so an organization
   * administrator's that names one is refused whole (403 FORBIDDEN), before anything is created.
   */
  async create(by: Principal, input: { organizationId: number; fileName: string; bytes: Buffer }): Promise<ImportView> {
    requireOrganization(by, input.organizationId);
    if (!(await this.deps.orgs.findOrganization(input.organizationId))) throw new AppError('ORGANIZATION_NOT_FOUND');
    const decoded = decodeRosterBytes(input.bytes);
    let rows: number;
    try {
      const parsed = parseRoster(decoded.text, this.deps.maxRows);
      if (parsed.some((row) => rosterRole(row.role) === 'admin')) requirePlatform(by, 'import platform administrators (role admin)');
      rows = parsed.length;
    } catch (error) {
      if (error instanceof RosterFormatError) throw new AppError('INVALID_ROSTER', { message: `The roster cannot be imported: ${error.message}.` });
      throw error;
    }
    const actor = actorName(by);
    const upload = await this.database.write((trx) =>
      trx
        .insertInto('roster_imports')
        .values({
          organization_id: input.organizationId,
          file_name: input.fileName,
          encoding: decoded.encoding,
          content: decoded.text,
          content_sha256: sha256Hex(decoded.text),
          created_by: actor,
          created_at: this.now(),
          task_id: null,
          rows,
        })
        .returning(['id', 'organization_id', 'file_name', 'encoding', 'created_by', 'created_at', 'task_id', 'rows', 'done', 'counts', 'purged_at'])
        .executeTakeFirstOrThrow(),
    );
    const { task } = await this.deps.tasks.submit({ type: ROSTER_IMPORT_TASK, payload: { import_id: upload.id }, priority: IMPORT_PRIORITY, idempotencyKey: `roster-import:${upload.id}` }, actor, false);
    await this.database.write((trx) => trx.updateTable('roster_imports').set({ task_id: task.id }).where('id', '=', upload.id).execute());
    await this.deps.audit.recordBy(by, { event: 'admin.roster_imported', target: `organization:${input.organizationId}`, detail: { import_id: upload.id, rows, file_name: input.fileName } });
    return this.view({ ...upload, task_id: task.id }, rows, task);
  }

  /** An import's state for a poll: a few columns and the task, never the file or the per-row report. */
  async get(by: Principal, id: number): Promise<ImportView> {
    const upload = await this.find(by, id);
    const task = upload.task_id ? await this.deps.tasks.queue.get(upload.task_id) : null;
    return this.view(upload, upload.rows ?? (await this.countLegacyRows(upload.id)), task, parseCounts(upload.counts));
  }

  /** The per-row report; IMPORT_EXPIRED once the retention sweep has deleted it. */
  async report(by: Principal, id: number): Promise<ImportReport> {
    const upload = await this.find(by, id);
    if (upload.purged_at !== null) throw new AppError('IMPORT_EXPIRED');
    const counts = parseCounts(upload.counts);
    const total = upload.rows ?? (await this.countLegacyRows(upload.id));
    return readReport(this.database.db, upload.id, total, counts ? { done: upload.done, counts } : null);
  }

  /**
   * Deletes the uploaded files and per-row reports of imports uploaded more than IMPORT_RETENTION_DAYS
   * ago (names and phone numbers); the import's record and counts stay, for its history. Returns how many.
   */
  async sweepExpired(): Promise<number> {
    const cutoff = this.now() - this.deps.retentionDays * 86_400_000;
    return this.database.write(async (trx) => {
      const expired = await trx.selectFrom('roster_imports').select('id').where('purged_at', 'is', null).where('created_at', '<=', cutoff).execute();
      if (expired.length === 0) return 0;
      const ids = expired.map((r) => r.id);
      await trx.deleteFrom('roster_import_rows').where('import_id', 'in', ids).execute();
      await trx.updateTable('roster_imports').set({ content: '', purged_at: this.now() }).where('id', 'in', ids).execute();
      return ids.length;
    });
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** Imports uploaded before the row count was stored, whose task has not run since: count once, from the file. */
  private async countLegacyRows(id: number): Promise<number> {
    const { content } = await this.database.db.selectFrom('roster_imports').select('content').where('id', '=', id).executeTakeFirstOrThrow();
    return parseRoster(content, Number.MAX_SAFE_INTEGER).length;
  }

  /** An import the principal administers: IMPORT_NOT_FOUND, OUTSIDE_ORGANIZATION. */
  private async find(by: Principal, id: number): Promise<ImportRecord> {
    const upload = await this.database.db
      .selectFrom('roster_imports')
      .select(['id', 'organization_id', 'file_name', 'encoding', 'created_by', 'created_at', 'task_id', 'rows', 'done', 'counts', 'purged_at'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!upload) throw new AppError('IMPORT_NOT_FOUND');
    requireOrganization(by, upload.organization_id);
    return upload;
  }

  private view(upload: ImportRecord, rows: number, task: TaskRecord | null, counts: ImportReport['counts'] | null = null): ImportView {
    return {
      id: upload.id,
      organization_id: upload.organization_id,
      file_name: upload.file_name,
      encoding: upload.encoding,
      rows,
      created_by: upload.created_by,
      created_at: new Date(upload.created_at).toISOString(),
      task: taskSummary(task),
      counts,
      file_deleted_at: upload.purged_at === null ? null : new Date(upload.purged_at).toISOString(),
    };
  }
}
