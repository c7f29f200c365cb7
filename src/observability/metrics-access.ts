// Who may read /metrics. The numbers say how many sign-ins fail, which limits trip and how full the
// disk is: useful to an attacker timing a run. Two guards, either or both: a port of its own
// (METRICS_PORT, which a load balancer or Ingress does not forward), and a bearer token
// (METRICS_TOKEN). Without either, /metrics answers anyone on the service's port, as `npm start` does.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';

/** Whether an Authorization header carries the token; compared in constant time (digests hide the length too). */
export function bearerTokenMatches(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(match?.[1] ?? ''), digest(token)) && match !== null;
}

/**
 * A bare HTTP server for /metrics on a port of its own (METRICS_PORT, or a standalone task worker's
 * --metrics-port): nothing else is served there.
 */
export function serveMetrics(options: { collect: () => Promise<string>; contentType: string; port: number; host: string; token: string | undefined }): Server {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    if (options.token !== undefined && !bearerTokenMatches(request.headers.authorization, options.token)) {
      response.writeHead(401, { 'www-authenticate': 'Bearer realm="metrics"', 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'METRICS_TOKEN_REQUIRED', message: 'Send Authorization: Bearer <METRICS_TOKEN>.' } }));
      return;
    }
    options.collect().then(
      (text) => response.writeHead(200, { 'content-type': options.contentType, 'cache-control': 'no-store' }).end(text),
      () => response.writeHead(500).end(),
    );
  });
  server.listen(options.port, options.host);
  return server;
}
