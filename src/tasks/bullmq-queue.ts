// The scale-out task queue: BullMQ on Redis. BullMQ keeps the queue, the leases (job locks, with
// stalled-job recovery when a worker dies), retries with our backoff, and the failed set that serves as
// the dead letters; this file maps its jobs onto the TaskQueue contract.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Job, Queue, UnrecoverableError, Worker, type JobType } from 'bullmq';
import { connectRedis, type RedisTarget } from '../kv/redis-connection.js';
import { AppError } from '../errors.js';
import { newTaskId } from './sql-queue.js';
import { PermanentTaskError, TASK_STATES, type ConsumeOptions, type NewTask, type Processor, type TaskConsumer, type TaskFilter, type TaskQueue, type TaskRecord, type TaskState } from './types.js';

export interface BullmqQueueOptions {
  redis: RedisTarget;
  /** Key prefix for BullMQ's keys (without a trailing colon). */
  prefix: string;
  /** How long a worker's lock on a job lasts without renewal (BullMQ renews it at half-time). */
  leaseMs: number;
  /** Finished tasks are kept this long, so that their status can still be read. */
  keepFinishedSeconds?: number;
}

interface JobData {
  type: string;
  payload: unknown;
  submitted_by: string | null;
  /** Absent on jobs submitted before tasks recorded it. */
  request_id?: string | null;
  priority: number;
  /** Tells a fresh submission from an idempotent repeat of an earlier one. */
  nonce: string;
}

const QUEUE_NAME = 'tasks';

/** BullMQ: 1 is the highest priority (0 would mean "none" and jump ahead of all prioritized jobs). */
const toBullPriority = (priority: number) => 10 - priority;

function stateOf(bullState: string, job: Job<JobData>): TaskState {
  switch (bullState) {
    case 'active':
      return 'running';
    case 'completed':
      return 'succeeded';
    case 'failed':
      return 'dead';
    case 'delayed':
      // Submissions are never delayed here: a delayed job waits for a retry.
      return job.attemptsMade > 0 ? 'failed' : 'queued';
    default:
      return 'queued';
  }
}

const STATE_TO_BULL: Record<TaskState, JobType[]> = {
  queued: ['waiting', 'prioritized'],
  running: ['active'],
  failed: ['delayed'],
  succeeded: ['completed'],
  dead: ['failed'],
};

function toRecord(job: Job<JobData>, bullState: string): TaskRecord {
  const state = stateOf(bullState, job);
  const updated = Math.max(job.timestamp, job.processedOn ?? 0, job.finishedOn ?? 0);
  const progress = job.progress;
  return {
    id: job.id!,
    type: job.data.type,
    state,
    priority: job.data.priority,
    attempts: job.attemptsStarted ?? job.attemptsMade,
    max_attempts: job.opts.attempts ?? 1,
    payload: job.data.payload,
    result: state === 'succeeded' ? (job.returnvalue ?? null) : null,
    progress: typeof progress === 'number' && progress === 0 ? null : progress,
    last_error: job.failedReason || null,
    submitted_by: job.data.submitted_by,
    request_id: job.data.request_id ?? null,
    created_at: job.timestamp,
    updated_at: updated,
    started_at: job.processedOn ?? null,
    finished_at: state === 'succeeded' || state === 'dead' ? (job.finishedOn ?? null) : null,
    next_run_at: state === 'queued' ? job.timestamp : state === 'failed' ? (job.processedOn ?? job.timestamp) + (job.delay ?? 0) : null,
  };
}

/** A deterministic job id for an idempotency key, so that BullMQ itself refuses the duplicate. */
function idFor(idempotencyKey: string): string {
  return `tsk_k${createHash('sha256').update(idempotencyKey).digest('base64url').slice(0, 24)}`;
}

export function createBullmqQueue(options: BullmqQueueOptions): TaskQueue {
  const connection = connectRedis(options.redis, { maxRetriesPerRequest: 3, lazyConnect: true });
  connection.on('error', () => undefined);
  const queue = new Queue<JobData>(QUEUE_NAME, { connection, prefix: options.prefix });
  queue.on('error', () => undefined);
  const keepFinished = { age: options.keepFinishedSeconds ?? 7 * 24 * 3600 };

  /** A job and its state read consistently: the two reads are separate round trips, and the job may move in between. */
  async function snapshot(id: string): Promise<{ job: Job<JobData>; state: string } | null> {
    for (let attempt = 0; ; attempt++) {
      const before = await queue.getJobState(id);
      const job = (await Job.fromId<JobData>(queue, id)) as Job<JobData> | undefined;
      if (!job) return null;
      const state = await job.getState();
      if (state === before || attempt >= 5) return { job, state };
    }
  }

  async function read(id: string): Promise<TaskRecord | null> {
    const found = await snapshot(id);
    return found ? toRecord(found.job, found.state) : null;
  }

  function consume(processor: Processor, consumeOptions: ConsumeOptions): TaskConsumer {
    const stopping = new AbortController();
    const running = new Set<Promise<unknown>>();
    const workerConnection = connectRedis(options.redis, { maxRetriesPerRequest: null });
    workerConnection.on('error', () => undefined);
    const worker = new Worker<JobData>(
      QUEUE_NAME,
      async (job) => {
        const record = toRecord(job, 'active');
        const run = processor(record, {
          taskId: job.id!,
          attempt: record.attempts,
          signal: stopping.signal,
          progress: (value) => job.updateProgress(value as object),
        });
        running.add(run);
        try {
          return await run;
        } catch (error) {
          if (error instanceof PermanentTaskError) throw new UnrecoverableError(error.message);
          throw error;
        } finally {
          running.delete(run);
        }
      },
      {
        connection: workerConnection,
        prefix: options.prefix,
        concurrency: consumeOptions.concurrency,
        lockDuration: options.leaseMs,
        stalledInterval: Math.max(1_000, Math.floor(options.leaseMs / 2)),
        // A job whose worker died is put back this many times before it is failed for good.
        maxStalledCount: 2,
        settings: { backoffStrategy: (attemptsMade: number) => consumeOptions.backoffMs(attemptsMade) },
      },
    );
    worker.on('error', (error) => consumeOptions.onError?.(error, 'worker'));
    return {
      async stop(timeoutMs = 10_000) {
        stopping.abort();
        // Take nothing new, give running tasks the timeout, then close without waiting: a task still
        // running loses its lock renewal and goes back to the queue when the lock expires.
        await worker.pause(true);
        await Promise.race([Promise.allSettled([...running]), sleep(timeoutMs)]);
        await worker.close(true);
        await workerConnection.quit().catch(() => workerConnection.disconnect());
      },
    };
  }

  /** Redis unreachable (or too slow) is a 503 for the API's caller, not a 500. */
  async function available<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new AppError('STORE_UNAVAILABLE', { retryAfterSeconds: 1, cause: error });
    }
  }

  const api: Omit<TaskQueue, 'backend' | 'consume' | 'close'> = {
    async submit(task: NewTask) {
      const idempotencyKey = task.idempotencyKey === undefined ? undefined : `${task.submittedBy ?? ''}:${task.idempotencyKey}`;
      const id = idempotencyKey ? idFor(idempotencyKey) : newTaskId();
      const data: JobData = { type: task.type, payload: task.payload ?? null, submitted_by: task.submittedBy ?? null, request_id: task.requestId ?? null, priority: task.priority, nonce: newTaskId() };
      await queue.add(task.type, data, {
        jobId: id,
        priority: toBullPriority(task.priority),
        attempts: task.maxAttempts,
        backoff: { type: 'custom' },
        removeOnComplete: keepFinished,
        removeOnFail: keepFinished,
      });
      const found = await snapshot(id);
      if (!found) throw new Error(`task ${id} vanished right after it was added`);
      return { task: toRecord(found.job, found.state), created: found.job.data.nonce === data.nonce };
    },
    get: read,
    async list(filter: TaskFilter) {
      const types = filter.state ? STATE_TO_BULL[filter.state] : (Object.values(STATE_TO_BULL).flat() as JobType[]);
      // Filters on type and submitter apply to the newest jobs fetched; fetch extra to fill the page.
      const scan = filter.type || filter.submittedBy ? filter.limit * 10 : filter.limit;
      const jobs = (await queue.getJobs(types, 0, scan - 1, false)) as Array<Job<JobData>>;
      const records = await Promise.all(jobs.filter(Boolean).map(async (job) => toRecord(job, await job.getState())));
      return records
        .filter((r) => (!filter.state || r.state === filter.state) && (!filter.type || r.type === filter.type) && (!filter.submittedBy || r.submitted_by === filter.submittedBy))
        .sort((a, b) => b.created_at - a.created_at)
        .slice(0, filter.limit);
    },
    async counts() {
      const bull = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed');
      const counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
      counts.queued = (bull.waiting ?? 0) + (bull.prioritized ?? 0);
      counts.failed = bull.delayed ?? 0;
      counts.running = bull.active ?? 0;
      counts.succeeded = bull.completed ?? 0;
      counts.dead = bull.failed ?? 0;
      return counts;
    },
    async retry(id) {
      const found = await snapshot(id);
      if (!found || found.state !== 'failed') return null;
      await found.job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      return read(id);
    },
  };

  return {
    backend: 'bullmq',
    submit: (task) => available(() => api.submit(task)),
    get: (id) => available(() => api.get(id)),
    list: (filter) => available(() => api.list(filter)),
    counts: () => available(() => api.counts()),
    retry: (id) => available(() => api.retry(id)),
    consume,
    async close() {
      await queue.close();
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
