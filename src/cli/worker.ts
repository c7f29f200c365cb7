// `gatehouse worker`: a process that only runs background tasks.
import { loadConfig } from '../config.js';
import { positiveInt, withRuntime, type Command } from './command.js';

export const workerCommands: Record<string, Command> = {
  worker: {
    summary: 'Run background tasks (SMS delivery, roster import, …) from the queue',
    usage:
      'gatehouse worker [--concurrency N] [--metrics-port P]\n\n  --concurrency N   tasks run at a time (default: TASK_CONCURRENCY or 4)\n  --metrics-port P  serve Prometheus metrics on this port (default: none)\n\n  Any number of workers, on any machine that reaches the stores; `gatehouse serve` also forks TASK_WORKERS of them.',
    options: { concurrency: { type: 'string' }, 'metrics-port': { type: 'string' } },
    async run(values) {
      const config = loadConfig();
      const concurrency = positiveInt(values.concurrency, '--concurrency') ?? config.tasks.concurrency;
      const metricsPort = positiveInt(values['metrics-port'], '--metrics-port');
      // Migrations first, as serve does, and the same refusal of a key that is not the installation's.
      const { refuseAnotherSecret } = await import('../server/bootstrap.js');
      await withRuntime(config, (runtime) => refuseAnotherSecret(runtime.database, runtime.secret));
      const { runTaskWorkerProcess } = await import('../server/task-worker.js');
      await runTaskWorkerProcess(config, { concurrency, clustered: false, metricsPort });
    },
  },
};
