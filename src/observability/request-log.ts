// One log line per request, when its answer has been sent: method, path, client address, status and
// milliseconds, under the request's id (echoed as X-Request-Id). Fastify's own request logging writes
// a second line on arrival with nothing the completion line lacks; a burst of 500 registrations is
// 500 lines instead of 1,000. A request that never completes is still visible: errors are logged
// where they happen (src/http/error-responses.ts) and the request timeout ends it.
import type { FastifyInstance } from 'fastify';

export function installRequestLog(app: FastifyInstance): void {
  // Below info, no hook at all: nothing is added to every request's path.
  if (!['trace', 'debug', 'info'].includes(app.log.level)) return;
  app.addHook('onResponse', async (request, reply) => {
    // Fastify's serializers turn these into {method, url, host, remoteAddress, remotePort} and {statusCode}.
    request.log.info({ req: request, res: reply, responseTime: Math.round(reply.elapsedTime * 10) / 10 }, 'request completed');
  });
}
