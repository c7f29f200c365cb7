// One handler per task type, registered at start. The API uses the registry to refuse unknown types
// and bad payloads at submission; the worker uses it to run tasks. Handlers must be idempotent: a task
// whose worker died mid-run runs again.
import { PermanentTaskError, type Processor, type TaskContext } from './types.js';

export interface TaskHandler<P = unknown> {
  type: string;
  /** Whether API keys with the tasks:write scope may submit it through POST /api/tasks. */
  public: boolean;
  maxAttempts: number;
  /** Checks a payload and returns it typed; throws TaskPayloadError. */
  parse(payload: unknown): P;
  run(payload: P, context: TaskContext): Promise<unknown>;
}

/** A payload that can never be run; 400 at submission, dead at run time. */
export class TaskPayloadError extends PermanentTaskError {
  override name = 'TaskPayloadError';
}

/** Parses the payload of a task that refers to one row by id: `{ [field]: positive integer }`. */
export function rowIdPayload<K extends string>(payload: unknown, field: K): Record<K, number> {
  const id = (payload as Record<string, unknown> | null)?.[field];
  if (!Number.isInteger(id) || (id as number) < 1) throw new TaskPayloadError(`${field} must be a positive integer`);
  return { [field]: id } as Record<K, number>;
}

export class TaskRegistry {
  private readonly handlers = new Map<string, TaskHandler<any>>();

  constructor(handlers: Array<TaskHandler<any>> = []) {
    for (const handler of handlers) this.register(handler);
  }

  register<P>(handler: TaskHandler<P>): this {
    if (!/^[a-z][a-z0-9_.-]{0,63}$/.test(handler.type)) throw new Error(`task type "${handler.type}" is not a valid name`);
    if (this.handlers.has(handler.type)) throw new Error(`task type "${handler.type}" is registered twice`);
    if (!Number.isInteger(handler.maxAttempts) || handler.maxAttempts < 1) throw new Error(`task type "${handler.type}": maxAttempts must be ≥ 1`);
    this.handlers.set(handler.type, handler);
    return this;
  }

  get(type: string): TaskHandler<unknown> | undefined {
    return this.handlers.get(type);
  }

  types(): string[] {
    return [...this.handlers.keys()].sort();
  }

  /** The function a queue consumer runs for each task: the task's handler, or a dead letter when there is none. */
  processor(): Processor {
    return async (task, context) => {
      const handler = this.handlers.get(task.type);
      if (!handler) throw new PermanentTaskError(`no handler for task type "${task.type}" in this worker`);
      return handler.run(handler.parse(task.payload), context);
    };
  }
}
