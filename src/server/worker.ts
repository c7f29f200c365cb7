// One serving process: builds the app on its own store connections and listens. In cluster mode the
// primary shares its listening socket and hands connections round-robin to the workers.
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.js';
import type { Config } from '../config.js';
import { clusterMetricsCollector } from '../observability/cluster-metrics.js';
import { createMetrics } from '../observability/metrics.js';
import { passwordHasher } from '../security/password.js';
import { clusterHashRunner } from './cluster-hashing.js';
import { openRuntime } from './runtime.js';
import { startTaskWorker } from './task-worker.js';

export interface RunningServer {
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Pending connections the kernel may queue: a burst of a few thousand clients connecting at once. */
const LISTEN_BACKLOG = 4096;

export async function startServer(config: Config, options: { workerIndex?: number; clustered?: boolean; runTasks?: boolean } = {}): Promise<RunningServer> {
  const runtime = await openRuntime(config, { readReplica: true });
  const metrics = createMetrics();
  const collectMetrics = options.clustered ? clusterMetricsCollector(metrics.registry) : undefined;
  // Cluster workers hash on the primary's machine-wide pool; a single process on threads of its own.
  const hasher = options.clustered ? passwordHasher(clusterHashRunner(), config.passwordHash) : undefined;
  const app = await buildApp({ config, ...runtime, hasher, workerIndex: options.workerIndex, metrics, collectMetrics, housekeeping: !options.workerIndex });
  await app.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG });
  // Single-process mode: the task consumer runs here too (cluster mode forks task workers instead).
  const tasks = options.runTasks ? startTaskWorker(config, runtime, { concurrency: config.tasks.concurrency, log: app.log as never, metrics }) : undefined;
  let closing: Promise<void> | undefined;
  return {
    app,
    close() {
      // app.close() stops accepting, lets in-flight requests finish, then the stores close.
      closing ??= Promise.all([app.close(), tasks?.stop(config.shutdownTimeoutMs)]).then(() => runtime.close());
      return closing;
    },
  };
}

/** Closes gracefully on SIGTERM/SIGINT or the primary's 'shutdown' message, then exits 0. */
export function exitGracefullyOnSignals(server: RunningServer, timeoutMs: number): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => {
      server.app.log.error('shutdown timed out; exiting with requests still open');
      process.exit(1);
    }, timeoutMs);
    force.unref();
    server
      .close()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        server.app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('message', (message: unknown) => {
    if ((message as { type?: string } | null)?.type === 'shutdown') stop();
  });
}
