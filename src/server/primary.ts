// The cluster primary: forks N HTTP workers and the task workers, accepts every connection and hands
// it to an HTTP worker, replaces any worker that dies, and on SIGTERM stops without losing a request:
// the workers drain (readiness fails, requests still served) for SHUTDOWN_DELAY_MS, then the primary
// stops accepting, the workers finish what is in flight, and the primary exits 0 once all have.
import cluster, { type Worker } from 'node:cluster';
import { pino } from 'pino';
import type { Config } from '../config.js';
import { serveClusterMetrics } from '../observability/cluster-metrics.js';
import { loggerOptions } from '../observability/logger.js';
import { serveMetrics } from '../observability/metrics-access.js';
import { createPrimaryMetrics } from '../observability/metrics.js';
import { createArgon2Pool } from '../security/password.js';
import { serveClusterHashing } from './cluster-hashing.js';
import { ConnectionDistributor } from './connection-handoff.js';
import { LISTEN_BACKLOG, WORKER_DRAIN, WORKER_READY, WORKER_SHUTDOWN } from './messages.js';

export const WORKER_INDEX_ENV = 'GATEHOUSE_WORKER_INDEX';
export const ROLE_ENV = 'GATEHOUSE_ROLE';

/** A worker that dies sooner than this after starting is restarted after a pause, not at once. */
const CRASH_LOOP_WINDOW_MS = 5_000;

export async function runPrimary(config: Config, onAllListening: () => void): Promise<void> {
  const log = pino(loggerOptions(config.logLevel, { role: 'primary' }));
  const metrics = createPrimaryMetrics();
  const connections = new ConnectionDistributor(log);
  const byIndex = new Map<number, { worker: Worker; startedAt: number }>();
  const ready = new Set<number>();
  let shuttingDown = false;
  let announced = false;

  // HTTP workers are 0…workers−1; task workers (which never serve HTTP) follow them.
  const httpWorkers = Math.max(1, config.workers);
  function fork(index: number): void {
    const role = index < httpWorkers ? 'http' : 'tasks';
    const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(index), [ROLE_ENV]: role });
    byIndex.set(index, { worker, startedAt: Date.now() });
    worker.on('message', (message: { type?: string } | null) => {
      if (message?.type !== WORKER_READY) return;
      ready.add(index);
      if (shuttingDown) worker.send({ type: WORKER_DRAIN });
      connections.addWorker(worker);
      if (!announced && ready.size === httpWorkers) {
        announced = true;
        log.info({ workers: config.workers, port: config.port, host: config.host }, 'all workers listening');
        onAllListening();
      }
    });
    worker.on('exit', (code, signal) => {
      ready.delete(index);
      connections.removeWorker(worker);
      const entry = byIndex.get(index);
      if (entry?.worker !== worker) return;
      byIndex.delete(index);
      if (shuttingDown) return;
      const livedMs = Date.now() - entry.startedAt;
      metrics.workerExits.inc({ role });
      log.warn({ worker: index, workerRole: role, pid: worker.process.pid, code, signal }, 'worker exited; starting a new one');
      const delay = livedMs < CRASH_LOOP_WINDOW_MS ? 1_000 : 0;
      setTimeout(() => {
        if (!shuttingDown) fork(index);
      }, delay).unref();
    });
  }

  const collectMetrics = serveClusterMetrics(metrics.registry);
  // METRICS_PORT: the primary serves the sum itself; the workers' port has no /metrics then.
  const metricsServer = config.metrics.port === undefined ? undefined : serveMetrics({ collect: collectMetrics, contentType: metrics.registry.contentType, port: config.metrics.port, host: config.host, token: config.metrics.token });
  serveClusterHashing(createArgon2Pool(config.hashThreads, config.passwordHash));
  // Listening before the workers exist: connections that arrive meanwhile wait for the first ready one.
  await connections.listen(config.port, config.host, LISTEN_BACKLOG);
  for (let index = 0; index < httpWorkers + config.tasks.workers; index++) fork(index);

  let cutDelayShort: (() => void) | undefined;
  const shutdown = (signal: string) => {
    if (shuttingDown) return cutDelayShort?.();
    shuttingDown = true;
    log.info({ signal, delayMs: config.shutdownDelayMs }, 'shutting down: draining (readiness fails, requests still served)');
    for (const { worker } of byIndex.values()) if (worker.isConnected()) worker.send({ type: WORKER_DRAIN });
    const timer = setTimeout(stop, config.shutdownDelayMs);
    cutDelayShort = () => {
      clearTimeout(timer);
      stop();
    };
  };

  let stopped = false;
  function stop(): void {
    if (stopped) return;
    stopped = true;
    log.info('shutting down: no new connections; workers finish what is in flight');
    connections.stopAccepting();
    metricsServer?.close();
    const workers = [...byIndex.values()].map((entry) => entry.worker);
    if (workers.length === 0) process.exit(0);
    let remaining = workers.length;
    let failed = false;
    for (const worker of workers) {
      worker.once('exit', (code) => {
        if (code !== 0) failed = true;
        if (--remaining === 0) {
          log.info('all workers stopped');
          process.exit(failed ? 1 : 0);
        }
      });
      // Sent after every connection handed to this worker (one IPC channel keeps its order).
      if (worker.isConnected()) worker.send({ type: WORKER_SHUTDOWN });
      else worker.kill('SIGTERM');
    }
    setTimeout(() => {
      log.error('workers did not drain in time; killing them');
      for (const worker of workers) worker.process.kill('SIGKILL');
      process.exit(1);
    }, config.shutdownTimeoutMs + 1_000).unref();
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
