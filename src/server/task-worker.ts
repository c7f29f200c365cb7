// A task-worker process: takes tasks from the queue and runs their handlers, `concurrency` at a time.
// It serves no HTTP; `gatehouse serve` forks one (TASK_WORKERS) and `gatehouse worker` runs one on
// its own (any number of them, on any machine that reaches the stores).
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Metrics } from '../observability/metrics.js';
import { createTaskRegistry } from '../task-handlers.js';
import { backoffFor } from '../tasks/open.js';
import type { TaskRegistry } from '../tasks/registry.js';
import type { Processor, TaskConsumer, TaskContext, TaskQueue, TaskRecord } from '../tasks/types.js';
import { pino, type DestinationStream } from 'pino';
import { clusterMetricsCollector } from '../observability/cluster-metrics.js';
import { serveMetrics } from '../observability/metrics-access.js';
import { loggerOptions } from '../observability/logger.js';
import { REQUEST_ID_FIELD, requestIdMixin, withRequestId } from '../observability/request-context.js';
import { createMetrics } from '../observability/metrics.js';
import { openRuntime, type Runtime } from './runtime.js';

export interface TaskWorkerOptions {
  concurrency: number;
  log: Logger;
  metrics: Metrics;
  registry?: TaskRegistry;
}

/**
 * Wraps the registry's processor with a log line and metrics per attempt. The attempt runs with the
 * submitting request's id current, so that a logger made with requestIdMixin (the task worker's) puts it
 * on every line the handler writes too.
 */
function observed(processor: Processor, log: Logger, metrics: Metrics): Processor {
  return (task, context) => withRequestId(task.request_id, () => attempt(processor, log, metrics, task, context));
}

async function attempt(processor: Processor, log: Logger, metrics: Metrics, task: TaskRecord, context: TaskContext): Promise<unknown> {
  const started = performance.now();
  const fields = { task: task.id, type: task.type, attempt: context.attempt, ...(task.request_id ? { [REQUEST_ID_FIELD]: task.request_id } : {}) };
  try {
    const result = await processor(task, context);
    metrics.taskRuns.observe({ type: task.type, outcome: 'succeeded' }, (performance.now() - started) / 1000);
    log.info(fields, 'task succeeded');
    return result;
  } catch (error) {
    metrics.taskRuns.observe({ type: task.type, outcome: 'failed' }, (performance.now() - started) / 1000);
    metrics.taskFailures.inc({ type: task.type });
    log.warn({ ...fields, err: error }, 'task attempt failed');
    throw error;
  }
}

export interface RunningTaskWorker {
  queue: TaskQueue;
  stop(timeoutMs: number): Promise<void>;
}

export function startTaskWorker(config: Config, runtime: Runtime, options: TaskWorkerOptions): RunningTaskWorker {
  const registry = options.registry ?? createTaskRegistry({ config, database: runtime.database, kv: runtime.kv, secret: runtime.secret, log: options.log });
  const queue = runtime.tasks;
  options.metrics.watchTaskQueue(() => queue.counts());
  const consumer: TaskConsumer = queue.consume(observed(registry.processor(), options.log, options.metrics), {
    concurrency: options.concurrency,
    backoffMs: backoffFor(config),
    onError: (error, what) => options.log.warn({ err: error, what }, 'task queue trouble; the worker keeps trying'),
  });
  options.log.info({ backend: queue.backend, concurrency: options.concurrency, types: registry.types() }, 'task worker started');
  return {
    queue,
    async stop(timeoutMs) {
      await consumer.stop(timeoutMs);
    },
  };
}

/** The task worker's logger: lines written while a task runs carry the id of the request that submitted it. */
export function taskWorkerLogger(level: string, workerIndex: number | undefined, destination?: DestinationStream): Logger {
  return pino({ ...loggerOptions(level, { role: 'tasks', ...(workerIndex === undefined ? {} : { worker: workerIndex }) }), mixin: requestIdMixin }, destination);
}

/**
 * A process that only runs tasks: `gatehouse worker`, or a task worker forked by `gatehouse serve`.
 * Stops on SIGTERM/SIGINT (or the primary's shutdown message): takes nothing new, lets running tasks
 * finish within the shutdown timeout, hands back the rest, exits 0.
 */
export async function runTaskWorkerProcess(config: Config, options: { concurrency: number; clustered: boolean; metricsPort?: number | undefined }): Promise<void> {
  const log = taskWorkerLogger(config.logLevel, config.workerIndex);
  const runtime = await openRuntime(config);
  const metrics = createMetrics();
  if (options.clustered) clusterMetricsCollector(metrics.registry);
  const metricsServer =
    options.metricsPort === undefined
      ? undefined
      : serveMetrics({ collect: () => metrics.registry.metrics(), contentType: metrics.registry.contentType, port: options.metricsPort, host: config.host, token: config.metrics.token });
  const worker = startTaskWorker(config, runtime, { concurrency: options.concurrency, log, metrics });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    log.info('task worker stopping');
    setTimeout(() => process.exit(1), config.shutdownTimeoutMs + 2_000).unref();
    worker
      .stop(config.shutdownTimeoutMs)
      .then(() => runtime.close())
      .then(() => {
        metricsServer?.close();
        process.exit(0);
      })
      .catch((error: unknown) => {
        log.error({ err: error }, 'task worker shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('message', (message: unknown) => {
    if ((message as { type?: string } | null)?.type === 'shutdown') stop();
  });
}
