// Roster exports: an admin asks for an organization's member list; a roster.export task writes it; the
// admin reads its state and downloads the CSV.
import type { AuditLog } from '../audit/service.js';
import type { Database } from '../db/database.js';
import type { RosterExportRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import { actorName, requireOrganization, type Principal } from '../principal.js';
import type { OrgService } from '../orgs/service.js';
import type { TaskService } from '../tasks/service.js';
import { taskSummary, type TaskRecord, type TaskSummary } from '../tasks/types.js';
import { ROSTER_EXPORT_TASK } from './handler.js';
import { allMembers, membersCsv } from './members-csv.js';

/** Bulk work waits behind interactive work such as SMS delivery. */
const EXPORT_PRIORITY = 3;

export interface ExportView {
  id: number;
  organization_id: number;
  created_by: string | null;
  created_at: string;
  /** Members listed, once finished. */
  rows: number | null;
  finished_at: string | null;
  /** When the CSV stops being downloadable (it holds names and phone numbers). */
  expires_at: string | null;
  task: TaskSummary | null;
}

export class ExportService {
  constructor(
    private readonly database: Database,
    private readonly deps: { orgs: OrgService; tasks: TaskService; audit: AuditLog; retentionHours: number; now?: () => number },
  ) {}

  private get retentionMs(): number {
    return this.deps.retentionHours * 3_600_000;
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** An administrator asks for an organization's member list; a task writes it. */
  async create(by: Principal, organizationId: number): Promise<ExportView> {
    requireOrganization(by, organizationId);
    if (!(await this.deps.orgs.findOrganization(organizationId))) throw new AppError('ORGANIZATION_NOT_FOUND');
    const actor = actorName(by);
    const request = await this.database.write((trx) =>
      trx
        .insertInto('roster_exports')
        .values({ organization_id: organizationId, created_by: actor, created_at: this.now(), task_id: null, rows: null, content: null, finished_at: null })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    const { task } = await this.deps.tasks.submit({ type: ROSTER_EXPORT_TASK, payload: { export_id: request.id }, priority: EXPORT_PRIORITY, idempotencyKey: `roster-export:${request.id}` }, actor, false);
    await this.database.write((trx) => trx.updateTable('roster_exports').set({ task_id: task.id }).where('id', '=', request.id).execute());
    await this.recordCopyTaken(by, organizationId, { export_id: request.id });
    return this.view({ ...request, task_id: task.id }, task);
  }

  async get(by: Principal, id: number): Promise<ExportView> {
    const request = await this.find(by, id);
    return this.view(request, request.task_id ? await this.deps.tasks.queue.get(request.task_id) : null);
  }

  /**
   * The CSV, once the export has finished; EXPORT_NOT_READY before, EXPORT_EXPIRED after its retention.
   * Each download is a copy of the member list leaving the service: audited as `admin.export_downloaded`.
   */
  async file(by: Principal, id: number): Promise<{ organizationId: number; content: string }> {
    const request = await this.find(by, id);
    if (request.finished_at === null) throw new AppError('EXPORT_NOT_READY');
    // Refused by the clock even before the sweep has deleted it.
    if (request.content === null || Number(request.finished_at) + this.retentionMs <= this.now()) throw new AppError('EXPORT_EXPIRED');
    await this.deps.audit.recordBy(by, { event: 'admin.export_downloaded', target: `organization:${request.organization_id}`, detail: { export_id: id, rows: request.rows } });
    return { organizationId: request.organization_id, content: request.content };
  }

  /** The member list as CSV, made at once in this process (the CLI's `org export`), not kept; `file` is where the caller will write it. */
  async csvNow(by: Principal, organizationId: number, file?: string): Promise<{ rows: number; content: string }> {
    requireOrganization(by, organizationId);
    if (!(await this.deps.orgs.findOrganization(organizationId))) throw new AppError('ORGANIZATION_NOT_FOUND');
    const members = await allMembers(this.database.db, organizationId);
    await this.recordCopyTaken(by, organizationId, { rows: members.length, ...(file ? { file } : {}) });
    return { rows: members.length, content: membersCsv(members) };
  }

  /** Deletes the CSVs past their retention (the export's record stays, for its history); returns how many. */
  async sweepExpired(): Promise<number> {
    const cutoff = this.now() - this.retentionMs;
    const result = await this.database.write((trx) => trx.updateTable('roster_exports').set({ content: null }).where('finished_at', '<=', cutoff).where('content', 'is not', null).executeTakeFirst());
    return Number(result.numUpdatedRows);
  }

  /** A member list (names and phone numbers) is personal data: the audit log says who took a copy. */
  private recordCopyTaken(by: Principal, organizationId: number, detail: Record<string, unknown>): Promise<void> {
    return this.deps.audit.recordBy(by, { event: 'admin.roster_exported', target: `organization:${organizationId}`, detail });
  }

  /** An export the principal administers: EXPORT_NOT_FOUND, OUTSIDE_ORGANIZATION. */
  private async find(by: Principal, id: number): Promise<RosterExportRow> {
    const request = await this.database.db.selectFrom('roster_exports').selectAll().where('id', '=', id).executeTakeFirst();
    if (!request) throw new AppError('EXPORT_NOT_FOUND');
    requireOrganization(by, request.organization_id);
    return request;
  }

  private view(request: RosterExportRow, task: TaskRecord | null): ExportView {
    return {
      id: request.id,
      organization_id: request.organization_id,
      created_by: request.created_by,
      created_at: new Date(Number(request.created_at)).toISOString(),
      rows: request.rows,
      finished_at: request.finished_at === null ? null : new Date(Number(request.finished_at)).toISOString(),
      expires_at: request.finished_at === null ? null : new Date(Number(request.finished_at) + this.retentionMs).toISOString(),
      task: taskSummary(task),
    };
  }
}
