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
import type { ImportReport } from './report.js';
import { decodeRosterBytes, parseRoster, RosterFormatError } from './roster-file.js';

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
}

export class ImportService {
  constructor(
    private readonly database: Database,
    private readonly deps: { orgs: OrgService; tasks: TaskService; audit: AuditLog; maxRows: number },
  ) {}

  async create(input: { organizationId: number; fileName: string; bytes: Buffer; actor: string | null; ip: string | null }): Promise<ImportView> {
    if (!(await this.deps.orgs.findOrganization(input.organizationId))) throw new AppError('ORGANIZATION_NOT_FOUND');
    const decoded = decodeRosterBytes(input.bytes);
    let rows: number;
    try {
      rows = parseRoster(decoded.text, this.deps.maxRows).length;
    } catch (error) {
      if (error instanceof RosterFormatError) throw new AppError('INVALID_ROSTER', { message: `The roster cannot be imported: ${error.message}.` });
      throw error;
    }
    const upload = await this.database.write((trx) =>
      trx
        .insertInto('roster_imports')
        .values({
          organization_id: input.organizationId,
          file_name: input.fileName,
          encoding: decoded.encoding,
          content: decoded.text,
          content_sha256: sha256Hex(decoded.text),
          created_by: input.actor,
          created_at: Date.now(),
          task_id: null,
          report: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    const { task } = await this.deps.tasks.submit({ type: ROSTER_IMPORT_TASK, payload: { import_id: upload.id }, priority: IMPORT_PRIORITY, idempotencyKey: `roster-import:${upload.id}` }, input.actor, false);
    await this.database.write((trx) => trx.updateTable('roster_imports').set({ task_id: task.id }).where('id', '=', upload.id).execute());
    await this.deps.audit.record({ event: 'admin.roster_imported', actor: input.actor, target: `organization:${input.organizationId}`, ip: input.ip, detail: { import_id: upload.id, rows, file_name: input.fileName } });
    return this.view({ ...upload, task_id: task.id }, rows, task);
  }

  async get(id: number): Promise<ImportView> {
    const upload = await this.find(id);
    const task = upload.task_id ? await this.deps.tasks.queue.get(upload.task_id) : null;
    const report = upload.report ? (JSON.parse(upload.report) as ImportReport) : null;
    return this.view(upload, report?.total ?? parseRoster(upload.content, Number.MAX_SAFE_INTEGER).length, task, report);
  }

  async report(id: number): Promise<ImportReport | null> {
    const upload = await this.find(id);
    return upload.report ? (JSON.parse(upload.report) as ImportReport) : null;
  }

  private async find(id: number): Promise<RosterImportRow> {
    const upload = await this.database.db.selectFrom('roster_imports').selectAll().where('id', '=', id).executeTakeFirst();
    if (!upload) throw new AppError('IMPORT_NOT_FOUND');
    return upload;
  }

  private view(upload: RosterImportRow, rows: number, task: TaskRecord | null, report: ImportReport | null = null): ImportView {
    return {
      id: upload.id,
      organization_id: upload.organization_id,
      file_name: upload.file_name,
      encoding: upload.encoding,
      rows,
      created_by: upload.created_by,
      created_at: new Date(upload.created_at).toISOString(),
      task: taskSummary(task),
      counts: report?.counts ?? null,
    };
  }
}
