import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Database } from '../db/database.js';
import type { DrainingState } from '../http/draining.js';
import type { KeyValueStore } from '../kv/store.js';

const CHECK_TIMEOUT_MS = 2_000;

async function probe(check: () => Promise<void>): Promise<'ok' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

export const healthRoutes: FastifyPluginAsyncTypebox<{ database: Database; kv: KeyValueStore; draining: DrainingState }> = async (app, deps) => {
  app.get(
    '/healthz',
    { schema: { tags: ['ops'], summary: 'Liveness: the process answers', response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  const Checks = Type.Object({ status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]), checks: Type.Record(Type.String(), Type.String()) });
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['ops'],
        summary: 'Readiness: every backing store answers and the server is not draining before a stop (a read replica, when configured, is reported but not required)',
        response: { 200: Checks, 503: Checks },
      },
    },
    async (_request, reply) => {
      const [database, kv] = await Promise.all([probe(() => deps.database.ping()), probe(() => deps.kv.ping())]);
      const serving = deps.draining.draining ? 'draining' : 'ok';
      const ready = database === 'ok' && kv === 'ok' && serving === 'ok';
      reply.code(ready ? 200 : 503);
      if (!ready) reply.header('retry-after', '1');
      // A replica that is down or behind leaves the server ready: the primary serves its reads.
      const replica = deps.database.replica?.status().state;
      return { status: ready ? ('ready' as const) : ('not_ready' as const), checks: { database, kv, serving, ...(replica ? { database_replica: replica } : {}) } };
    },
  );
};
