// The task system's contract: what a client submits and sees, and what every queue backend provides.
// Backends (sql-queue.ts: a table in the durable store, with leases; bullmq-queue.ts: BullMQ on Redis)
// implement TaskQueue; one contract suite (test/in-process/tasks.contract.test.ts) runs against each.
import type { TaskState } from '../db/schema.js';

export type { TaskState };
export const TASK_STATES: readonly TaskState[] = ['queued', 'running', 'failed', 'succeeded', 'dead'];

export interface TaskRecord {
  id: string;
  type: string;
  state: TaskState;
  /** 0–9, higher first. */
  priority: number;
  attempts: number;
  max_attempts: number;
  payload: unknown;
  result: unknown;
  progress: unknown;
  last_error: string | null;
  submitted_by: string | null;
  /** The id of the HTTP request that submitted it (its X-Request-Id): the worker's log lines for the task carry it. */
  request_id: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  /** When the next attempt may start (queued and failed tasks). */
  next_run_at: number | null;
}

/** What a record that a task works on (an import, an export) shows of its task. */
export type TaskSummary = Pick<TaskRecord, 'id' | 'state' | 'attempts' | 'last_error' | 'progress'>;

export function taskSummary(task: TaskRecord | null): TaskSummary | null {
  return task ? { id: task.id, state: task.state, attempts: task.attempts, last_error: task.last_error, progress: task.progress } : null;
}

export interface NewTask {
  type: string;
  payload: unknown;
  priority: number;
  maxAttempts: number;
  /** Submitter-scoped idempotency key: a second submission with it returns the first task. */
  idempotencyKey?: string | undefined;
  submittedBy?: string | undefined;
  requestId?: string | undefined;
}

export interface TaskFilter {
  state?: TaskState | undefined;
  type?: string | undefined;
  submittedBy?: string | undefined;
  limit: number;
}

/** What a handler gets besides its payload. */
export interface TaskContext {
  taskId: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborted when the worker shuts down or loses the task's lease. */
  signal: AbortSignal;
  /** Records progress (any JSON) that clients see while the task runs. */
  progress(value: unknown): Promise<void>;
}

export type Processor = (task: TaskRecord, context: TaskContext) => Promise<unknown>;

export interface ConsumeOptions {
  concurrency: number;
  /** Computes the delay before attempt `attempt + 1` after a failed attempt. */
  backoffMs(attemptsMade: number): number;
  /** The queue's own trouble (the store unreachable while claiming, renewing, recording): the consumer keeps going. */
  onError?: (error: unknown, what: string) => void;
}

export interface TaskConsumer {
  /** Stops taking new tasks, waits for running ones (up to the timeout, then abandons them to their lease). */
  stop(timeoutMs?: number): Promise<void>;
}

export interface TaskQueue {
  readonly backend: 'sql' | 'bullmq';
  submit(task: NewTask): Promise<{ task: TaskRecord; created: boolean }>;
  get(id: string): Promise<TaskRecord | null>;
  list(filter: TaskFilter): Promise<TaskRecord[]>;
  counts(): Promise<Record<TaskState, number>>;
  /** Puts a dead task back in the queue with a fresh set of attempts; null when it is not dead. */
  retry(id: string): Promise<TaskRecord | null>;
  consume(processor: Processor, options: ConsumeOptions): TaskConsumer;
  close(): Promise<void>;
}

/** Thrown by a handler when retrying cannot help (a payload that can never work): the task goes straight to the dead letters. */
export class PermanentTaskError extends Error {
  override name = 'PermanentTaskError';
}

export const PRIORITY_MIN = 0;
export const PRIORITY_MAX = 9;
export const PRIORITY_DEFAULT = 5;
/**
 * The highest priority an API client may ask for. 8 and 9 are the system's own (SMS delivery runs at
 * 8), so that no key holder can queue work ahead of the codes people are waiting for. Asking for more
 * is a 400, not a silent clamp: the client learns at once that its number means something else.
 */
export const PRIORITY_SUBMITTED_MAX = 7;
