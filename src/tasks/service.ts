// What the API does with tasks: checks a submission against the registry (type, payload, priority),
// enqueues it, and reads back status; the queue backend does the rest.
import type { AuditLog } from '../audit/service.js';
import { AppError } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import { currentRequestId } from '../observability/request-context.js';
import { TaskPayloadError, type TaskRegistry } from './registry.js';
import { PRIORITY_DEFAULT, PRIORITY_SUBMITTED_MAX, type TaskFilter, type TaskQueue, type TaskRecord, type TaskState } from './types.js';

export interface Submission {
  type: string;
  payload: unknown;
  priority?: number | undefined;
  maxAttempts?: number | undefined;
  idempotencyKey?: string | undefined;
}

export class TaskService {
  constructor(
    readonly queue: TaskQueue,
    private readonly registry: TaskRegistry,
    private readonly options: { metrics?: Metrics | undefined; audit?: AuditLog | undefined } = {},
  ) {}

  /** Submits a task; `publicOnly` (an API client's submission) limits the types to public ones and the priority to PRIORITY_SUBMITTED_MAX. */
  async submit(submission: Submission, submittedBy: string | null, publicOnly: boolean): Promise<{ task: TaskRecord; created: boolean }> {
    const handler = this.registry.get(submission.type);
    if (!handler || (publicOnly && !handler.public)) {
      const types = this.registry.types().filter((t) => !publicOnly || this.registry.get(t)!.public);
      throw new AppError('UNKNOWN_TASK_TYPE', { details: { types } });
    }
    if (publicOnly && submission.priority !== undefined && submission.priority > PRIORITY_SUBMITTED_MAX) {
      throw new AppError('VALIDATION_FAILED', { message: `priority must be at most ${PRIORITY_SUBMITTED_MAX}; higher ones are the system's own`, details: { field: 'body.priority' } });
    }
    let payload: unknown;
    try {
      payload = handler.parse(submission.payload);
    } catch (error) {
      if (error instanceof TaskPayloadError) throw new AppError('INVALID_TASK_PAYLOAD', { message: `Invalid payload for ${submission.type}: ${error.message}` });
      throw error;
    }
    const result = await this.queue.submit({
      type: submission.type,
      payload,
      priority: submission.priority ?? PRIORITY_DEFAULT,
      maxAttempts: submission.maxAttempts ?? handler.maxAttempts,
      idempotencyKey: submission.idempotencyKey,
      submittedBy: submittedBy ?? undefined,
      // The request being served, if any (src/observability/request-context.ts).
      requestId: currentRequestId(),
    });
    if (result.created) this.options.metrics?.tasksSubmitted.inc({ type: submission.type });
    return result;
  }

  async get(id: string): Promise<TaskRecord> {
    const task = await this.queue.get(id);
    if (!task) throw new AppError('TASK_NOT_FOUND');
    return task;
  }

  /** A task as its submitter sees it: someone else's task is "not found", not "forbidden". */
  async getOwn(id: string, submittedBy: string): Promise<TaskRecord> {
    const task = await this.queue.get(id);
    if (!task || task.submitted_by !== submittedBy) throw new AppError('TASK_NOT_FOUND');
    return task;
  }

  list(filter: TaskFilter): Promise<TaskRecord[]> {
    return this.queue.list(filter);
  }

  counts(): Promise<Record<TaskState, number>> {
    return this.queue.counts();
  }

  async retry(id: string, actor: string | null, ip: string | null): Promise<TaskRecord> {
    const task = await this.queue.retry(id);
    if (!task) {
      await this.get(id); // 404 when it does not exist at all
      throw new AppError('TASK_NOT_DEAD');
    }
    await this.options.audit?.record({ event: 'task.retried', actor, target: `task:${id}`, ip, detail: { type: task.type } });
    return task;
  }
}
