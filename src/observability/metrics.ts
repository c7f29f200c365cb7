// Every Prometheus metric, in one registry per process. In cluster mode the primary sums the workers'
// registries (prom-client's AggregatorRegistry) so that a scrape of any worker sees the whole server.
import { statfsSync } from 'node:fs';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ReplicaStatus } from '../db/replica.js';

export type TaskCountSource = () => Promise<Record<string, number>>;
/** The SMS caps' use in their current windows (scope: `global` or a region code). */
export type SmsCapSource = () => Promise<Array<{ scope: string; window: string; used: number; cap: number }>>;

export function createMetrics() {
  const registry = new Registry();
  const registers = [registry];
  let taskCounts: TaskCountSource | undefined;
  let smsCaps: SmsCapSource | undefined;
  let replica: (() => ReplicaStatus) | undefined;
  const replicaMetrics = createReplicaMetrics(() => replica?.());
  return {
    /** Makes gatehouse_tasks read the queue's counts at each scrape. */
    watchTaskQueue(source: TaskCountSource) {
      taskCounts = source;
    },
    /** Makes gatehouse_sms_cap_used_ratio read the SMS caps at each scrape. */
    watchSmsCaps(source: SmsCapSource) {
      smsCaps = source;
    },
    /** Adds the data directory's space metrics, read from its file system at each scrape (embedded mode). */
    watchDataDir(directory: string) {
      for (const metric of Object.values(createDataDirMetrics(directory))) registry.registerMetric(metric);
    },
    /** Makes the read replica's metrics read its status at each scrape. */
    watchReplica(source: () => ReplicaStatus) {
      replica = source;
      // Registered only with a replica: on other deployments a "replica down" series would mislead.
      for (const metric of Object.values(replicaMetrics)) registry.registerMetric(metric);
    },
    tasks: new Gauge({
      name: 'gatehouse_tasks',
      help: 'Tasks in the queue by state (read from the queue at scrape time)',
      labelNames: ['state'],
      registers,
      // Every worker reads the same queue: across workers, the figure is one reading, not a sum.
      aggregator: 'max',
      async collect() {
        if (!taskCounts) return;
        try {
          for (const [state, n] of Object.entries(await taskCounts())) this.set({ state }, n);
        } catch {
          /* the store is down: /readyz says so; the scrape still answers */
        }
      },
    }),
    smsCapUse: new Gauge({
      name: 'gatehouse_sms_cap_used_ratio',
      help: 'Share of each SMS cap used in its current window (1: sends are refused with 429 SMS_CAP_REACHED), by scope (global or a region) and window (hour, day)',
      labelNames: ['scope', 'window'],
      registers,
      // Every worker reads the same shared counters: across workers, the figure is one reading, not a sum.
      aggregator: 'max',
      async collect() {
        if (!smsCaps) return;
        try {
          for (const c of await smsCaps()) this.set({ scope: c.scope, window: c.window }, Math.min(1, c.used / c.cap));
        } catch {
          /* the store is down: /readyz says so; the scrape still answers */
        }
      },
    }),
    tasksSubmitted: new Counter({ name: 'gatehouse_tasks_submitted_total', help: 'Tasks submitted, by type', labelNames: ['type'], registers }),
    taskRuns: new Histogram({
      name: 'gatehouse_task_run_duration_seconds',
      help: 'Task attempt duration by type and outcome (succeeded, failed)',
      labelNames: ['type', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
      registers,
    }),
    taskFailures: new Counter({ name: 'gatehouse_task_failures_total', help: 'Failed task attempts, by type', labelNames: ['type'], registers }),
    registry,
    httpRequests: new Counter({ name: 'gatehouse_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers }),
    httpDuration: new Histogram({
      name: 'gatehouse_http_request_duration_seconds',
      help: 'HTTP request duration by route',
      labelNames: ['method', 'route'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    captchas: new Counter({ name: 'gatehouse_captchas_total', help: 'Captchas generated and checked, by result (generated, ok, wrong, expired)', labelNames: ['result'], registers }),
    registrations: new Counter({ name: 'gatehouse_registrations_total', help: 'Registrations by result (ok or the error code)', labelNames: ['result'], registers }),
    logins: new Counter({ name: 'gatehouse_logins_total', help: 'Password logins by result (ok or the error code)', labelNames: ['result'], registers }),
    rateLimited: new Counter({ name: 'gatehouse_rate_limited_total', help: 'Requests refused by a rate limit, by limit', labelNames: ['limit'], registers }),
    lockouts: new Counter({ name: 'gatehouse_lockouts_total', help: 'Accounts locked after too many wrong passwords', registers }),
    cacheLookups: new Counter({ name: 'gatehouse_cache_lookups_total', help: 'Read-through cache lookups by cache and outcome (hit, load, shared)', labelNames: ['cache', 'outcome'], registers }),
    hashQueueDepth: new Gauge({ name: 'gatehouse_hash_queue_depth', help: 'Requests admitted to password hashing and not yet done', registers }),
    hashDuration: new Histogram({
      name: 'gatehouse_hash_duration_seconds',
      help: 'argon2id hash or verify time, queueing in the thread pool included',
      labelNames: ['op'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    overloaded: new Counter({ name: 'gatehouse_overloaded_total', help: 'Requests refused with 503 OVERLOADED', registers }),
    storeLatency: new Histogram({
      name: 'gatehouse_store_operation_duration_seconds',
      help: 'Shared store operation latency by backend and operation',
      labelNames: ['backend', 'op'],
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

function createReplicaMetrics(status: () => ReplicaStatus | undefined) {
  return {
    replicaUp: new Gauge({
      name: 'gatehouse_db_replica_up',
      help: '1 while the read replica answers within its allowed lag and takes reads; 0 while they go to the primary',
      registers: [],
      // Across workers: up only if every worker sees it up.
      aggregator: 'min',
      collect() {
        const state = status()?.state;
        if (state) this.set(state === 'ok' ? 1 : 0);
      },
    }),
    replicaLag: new Gauge({
      name: 'gatehouse_db_replica_lag_seconds',
      help: 'How old the newest data the read replica is known to hold may be, against the primary (0 while it does not answer: see gatehouse_db_replica_up)',
      registers: [],
      aggregator: 'max',
      collect() {
        const lag = status()?.lagSeconds;
        this.set(lag ?? 0);
      },
    }),
    lagTolerantReads: new Counter({
      name: 'gatehouse_db_lag_tolerant_reads_total',
      help: 'Reads that may be a moment old (admin lists and searches), by where they ran: replica or primary',
      labelNames: ['target'],
      registers: [],
      collect() {
        const reads = status()?.reads;
        if (!reads) return;
        this.reset();
        this.inc({ target: 'replica' }, reads.replica);
        this.inc({ target: 'primary' }, reads.primary);
      },
    }),
  };
}

// A full disk stops every write with 503 while /readyz stays 200 (the files answer): these are the
// figures to alert on (deploy/prometheus/alerts.yml).
function createDataDirMetrics(directory: string) {
  const space = () => {
    try {
      const fs = statfsSync(directory);
      return { free: fs.bavail * fs.bsize, size: fs.blocks * fs.bsize };
    } catch {
      return undefined;
    }
  };
  return {
    free: new Gauge({
      name: 'gatehouse_data_dir_free_bytes',
      help: 'Space left for the service on the file system of its SQLite files (DATA_DIR)',
      registers: [],
      aggregator: 'min',
      collect() {
        const now = space();
        if (now) this.set(now.free);
      },
    }),
    size: new Gauge({
      name: 'gatehouse_data_dir_size_bytes',
      help: 'Size of the file system of the SQLite files (DATA_DIR)',
      registers: [],
      aggregator: 'max',
      collect() {
        const now = space();
        if (now) this.set(now.size);
      },
    }),
  };
}

/** The cluster primary's own metrics, added to the workers' sum at each scrape. */
export function createPrimaryMetrics() {
  const registry = new Registry();
  const workerExits = new Counter({
    name: 'gatehouse_worker_exits_total',
    help: 'Worker processes that exited without being asked to (a crash, a kill) and were replaced, by role (http, tasks)',
    labelNames: ['role'],
    registers: [registry],
  });
  // Both series exist from the start, so that an alert on their increase sees the first exit.
  for (const role of ['http', 'tasks']) workerExits.inc({ role }, 0);
  return { registry, workerExits };
}
