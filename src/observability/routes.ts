import type { FastifyPluginAsync } from 'fastify';
import { AppError } from '../errors.js';
import { bearerTokenMatches } from './metrics-access.js';

export const metricsRoutes: FastifyPluginAsync<{ collect: () => Promise<string>; contentType: string; token: string | undefined }> = async (app, deps) => {
  app.get('/metrics', { schema: { tags: ['ops'], summary: 'Prometheus metrics (summed over all workers of this server); with METRICS_TOKEN set, send it as a bearer token', hide: false } }, async (request, reply) => {
    if (deps.token !== undefined && !bearerTokenMatches(request.headers.authorization, deps.token)) {
      reply.header('www-authenticate', 'Bearer realm="metrics"');
      throw new AppError('METRICS_TOKEN_REQUIRED');
    }
    const text = await deps.collect();
    reply.header('content-type', deps.contentType).header('cache-control', 'no-store');
    return text;
  });
};
