import type { FastifyPluginAsync } from 'fastify';

export const metricsRoutes: FastifyPluginAsync<{ collect: () => Promise<string>; contentType: string }> = async (app, deps) => {
  app.get('/metrics', { schema: { tags: ['ops'], summary: 'Prometheus metrics (summed over all workers of this server)', hide: false } }, async (_request, reply) => {
    const text = await deps.collect();
    reply.header('content-type', deps.contentType).header('cache-control', 'no-store');
    return text;
  });
};
