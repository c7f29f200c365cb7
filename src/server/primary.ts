// The cluster primary: prepares the database, forks N workers, replaces any that die, and on
// SIGTERM asks each to drain and exits 0 once all have.
import cluster, { type Worker } from 'node:cluster';
import { pino } from 'pino';
import type { Config } from '../config.js';
import { serveClusterMetrics } from '../observability/cluster-metrics.js';
import { loggerOptions } from '../observability/logger.js';
import { createPrimaryMetrics } from '../observability/metrics.js';
import { createArgon2Pool } from '../security/password.js';
import { serveClusterHashing } from './cluster-hashing.js';

export const WORKER_INDEX_ENV = 'GATEHOUSE_WORKER_INDEX';
export const ROLE_ENV = 'GATEHOUSE_ROLE';

/** A worker that dies sooner than this after starting is restarted after a pause, not at once. */
const CRASH_LOOP_WINDOW_MS = 5_000;

export function runPrimary(config: Config, onAllListening: () => void): void {
  const log = pino(loggerOptions(config.logLevel, { role: 'primary' }));
  const metrics = createPrimaryMetrics();
  cluster.schedulingPolicy = cluster.SCHED_RR;
  const byIndex = new Map<number, { worker: Worker; startedAt: number }>();
  const listening = new Set<number>();
  let shuttingDown = false;
  let announced = false;

  // HTTP workers are 0…workers−1; task workers (which never listen) follow them.
  const httpWorkers = Math.max(1, config.workers);
  function fork(index: number): void {
    const role = index < httpWorkers ? 'http' : 'tasks';
    const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(index), [ROLE_ENV]: role });
    byIndex.set(index, { worker, startedAt: Date.now() });
    worker.on('listening', () => {
      listening.add(index);
      if (!announced && listening.size === config.workers) {
        announced = true;
        log.info({ workers: config.workers, port: config.port, host: config.host }, 'all workers listening');
        onAllListening();
      }
    });
    worker.on('exit', (code, signal) => {
      listening.delete(index);
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

  serveClusterMetrics(metrics.registry);
  serveClusterHashing(createArgon2Pool(config.hashThreads, config.passwordHash));
  for (let index = 0; index < httpWorkers + config.tasks.workers; index++) fork(index);

  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal }, 'shutting down: draining workers');
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
      if (worker.isConnected()) worker.send({ type: 'shutdown' });
      else worker.kill('SIGTERM');
    }
    setTimeout(() => {
      log.error('workers did not drain in time; killing them');
      for (const worker of workers) worker.process.kill('SIGKILL');
      process.exit(1);
    }, config.shutdownTimeoutMs + 1_000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
