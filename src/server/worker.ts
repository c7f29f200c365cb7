// One serving process: builds the app on its own store connections and serves. In cluster mode the
// primary accepts the connections and hands them over (connection-handoff.ts); a single process
// listens itself.
//
// Stopping has two steps, so that no request that reached the server goes unanswered: drain (readiness
// fails, every request is still served and its answer closes the connection) for SHUTDOWN_DELAY_MS,
// then stop (no new connections; idle ones closed; those in use finish, up to SHUTDOWN_TIMEOUT_MS).
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.js';
import type { Config } from '../config.js';
import { clusterMetricsCollector } from '../observability/cluster-metrics.js';
import { serveMetrics } from '../observability/metrics-access.js';
import { createMetrics } from '../observability/metrics.js';
import { passwordHasher } from '../security/password.js';
import { clusterHashRunner } from './cluster-hashing.js';
import { serveHandedOffConnections } from './connection-handoff.js';
import { LISTEN_BACKLOG, WORKER_DRAIN, WORKER_READY, WORKER_SHUTDOWN } from './messages.js';
import { openRuntime } from './runtime.js';
import { startTaskWorker } from './task-worker.js';

export interface RunningServer {
  app: FastifyInstance;
  /** Readiness fails from now on; requests are still served. */
  drain(): void;
  /** Stops serving once the connections in use have finished, then closes the stores. */
  close(): Promise<void>;
}

export async function startServer(config: Config, options: { workerIndex?: number; clustered?: boolean; runTasks?: boolean } = {}): Promise<RunningServer> {
  const runtime = await openRuntime(config, { readReplica: true });
  const metrics = createMetrics();
  const collectMetrics = options.clustered ? clusterMetricsCollector(metrics.registry) : undefined;
  // Cluster workers hash on the primary's machine-wide pool; a single process on threads of its own.
  const hasher = options.clustered ? passwordHasher(clusterHashRunner(), config.passwordHash) : undefined;
  const app = await buildApp({ config, ...runtime, hasher, workerIndex: options.workerIndex, metrics, collectMetrics, housekeeping: !options.workerIndex });
  const connections = new Set<Socket>();
  if (options.clustered) {
    await app.ready();
    app.server.on('connection', (socket: Socket) => {
      connections.add(socket);
      socket.once('close', () => connections.delete(socket));
    });
    serveHandedOffConnections(app.server);
    process.send?.({ type: WORKER_READY });
  } else {
    await app.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG });
  }
  // A single process serves METRICS_PORT itself (in a cluster, the primary does).
  const metricsServer =
    !options.clustered && config.metrics.port !== undefined
      ? serveMetrics({ collect: () => metrics.registry.metrics(), contentType: metrics.registry.contentType, port: config.metrics.port, host: config.host, token: config.metrics.token })
      : undefined;
  // Single-process mode: the task consumer runs here too (cluster mode forks task workers instead).
  const tasks = options.runTasks ? startTaskWorker(config, runtime, { concurrency: config.tasks.concurrency, log: app.log as never, metrics }) : undefined;

  async function finishConnections(): Promise<void> {
    // Handed-over connections are not the server's own to wait for: wait for them here. Idle ones
    // close now; each one in use closes after its answer (draining answers say Connection: close).
    app.server.closeIdleConnections();
    while (connections.size > 0) await sleep(20);
  }

  let closing: Promise<void> | undefined;
  return {
    app,
    drain() {
      app.lifecycle.beginDraining();
    },
    close() {
      app.lifecycle.beginDraining();
      // app.close() stops accepting, lets in-flight requests finish, then the stores close.
      metricsServer?.close();
      closing ??= Promise.all([(options.clustered ? finishConnections() : Promise.resolve()).then(() => app.close()), tasks?.stop(config.shutdownTimeoutMs)]).then(() => runtime.close());
      return closing;
    },
  };
}

/**
 * A cluster worker stops when its primary says so (which it does after the drain delay); it takes no
 * signal of its own, so that a terminal's Ctrl-C or a supervisor signalling the whole process group
 * does not cut the primary's drain short. It exits by itself if the primary goes away.
 */
export function stopWhenPrimarySays(server: RunningServer, timeoutMs: number): void {
  const ignore = () => server.app.log.debug('signal ignored: the primary stops this worker');
  process.on('SIGTERM', ignore);
  process.on('SIGINT', ignore);
  const stop = once(() => closeAndExit(server, timeoutMs));
  process.on('message', (message: unknown) => {
    const type = (message as { type?: string } | null)?.type;
    if (type === WORKER_DRAIN) server.drain();
    if (type === WORKER_SHUTDOWN) stop();
  });
}

/** A single process: SIGTERM/SIGINT drain for `delayMs` (a second signal cuts the delay short), then stop and exit 0. */
export function exitGracefullyOnSignals(server: RunningServer, options: { delayMs: number; timeoutMs: number }): void {
  let cutShort: (() => void) | undefined;
  const stop = once(() => closeAndExit(server, options.timeoutMs));
  const onSignal = () => {
    if (cutShort) return cutShort();
    server.drain();
    server.app.log.info({ delayMs: options.delayMs }, 'draining: readiness fails; stopping after the delay');
    const timer = setTimeout(stop, options.delayMs);
    cutShort = () => {
      clearTimeout(timer);
      stop();
    };
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

function closeAndExit(server: RunningServer, timeoutMs: number): void {
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
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
