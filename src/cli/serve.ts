// `gatehouse serve`: the HTTP service — a cluster primary and its workers, or a single process.
import cluster from 'node:cluster';
import { loadConfig, type Config } from '../config.js';
import type { Command, FlagValue } from './command.js';

function configFrom(values: Record<string, FlagValue>): Config {
  const overrides: Record<string, string> = {};
  if (typeof values.workers === 'string') overrides.WORKERS = values.workers;
  if (typeof values.port === 'string') overrides.PORT = values.port;
  if (typeof values.host === 'string') overrides.HOST = values.host;
  return loadConfig(overrides);
}

export const serveCommands: Record<string, Command> = {
  serve: {
    summary: 'Run the HTTP service (a primary and N worker processes)',
    usage: 'gatehouse serve [--workers N] [--port P] [--host H]\n\n  --workers N  worker processes (default: WORKERS or the CPU count; 0 or 1: a single process)\n  --port P     TCP port (default: PORT or 9527)\n  --host H     address to listen on (default: HOST or 127.0.0.1)',
    options: { workers: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } },
    async run(values) {
      const config = configFrom(values);
      if (cluster.isWorker && config.role === 'tasks') {
        const { runTaskWorkerProcess } = await import('../server/task-worker.js');
        await runTaskWorkerProcess(config, { concurrency: config.tasks.concurrency, clustered: true });
        return;
      }
      if (cluster.isWorker) {
        const { stopWhenPrimarySays, startServer } = await import('../server/worker.js');
        const server = await startServer(config, { workerIndex: config.workerIndex ?? 0, clustered: true });
        stopWhenPrimarySays(server, config.shutdownTimeoutMs);
        return;
      }
      if (config.testCaptcha) process.stderr.write('WARNING: GATEHOUSE_TEST_CAPTCHA is set: every captcha has a known answer. Never use this in production.\n');
      const [{ openRuntime }, { firstRunMessage, prepareDatabase }] = await Promise.all([import('../server/runtime.js'), import('../server/bootstrap.js')]);
      const runtime = await openRuntime(config);
      let prepared;
      try {
        prepared = await prepareDatabase(runtime.database, runtime.secret);
      } finally {
        await runtime.close();
      }
      const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
      const announce = () => {
        const message = firstRunMessage(prepared, url);
        if (message) process.stdout.write(message + '\n');
        process.stdout.write(`Gatehouse listening on ${url} (${Math.max(1, config.workers)} worker${config.workers > 1 ? 's' : ''}); API docs at ${url}/docs\n`);
        // Apps are configured with the issuer, which is PUBLIC_URL's and not necessarily this address.
        if (config.oidc.issuer) process.stdout.write(`Single sign-on: OpenID Connect issuer ${config.oidc.issuer} (register an app: npx gatehouse clients create --help)\n`);
      };
      if (config.workers > 1) {
        const { runPrimary } = await import('../server/primary.js');
        await runPrimary(config, announce);
        return;
      }
      const { exitGracefullyOnSignals, startServer } = await import('../server/worker.js');
      const server = await startServer(config, { runTasks: config.tasks.workers > 0 });
      exitGracefullyOnSignals(server, { delayMs: config.shutdownDelayMs, timeoutMs: config.shutdownTimeoutMs });
      announce();
    },
  },
};
