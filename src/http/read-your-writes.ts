// Read-your-writes over a lagging read replica. The admin console's lists and searches may be read
// from the replica, a moment behind the primary; but an admin who has just created a code or disabled
// an account must see it in the list that is redrawn next. So, when a replica is configured, a
// successful change answers with a short-lived cookie, and for as long as it lives that client's
// lists are read from the primary (the approach of Rails' database selector). A client that wants the
// latest data without having written (a script, a hard reload) sends `Cache-Control: no-cache`.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Freshness } from '../db/database.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** How fresh this request's lists and searches must be (computed when first asked). */
    readonly readFreshness: Freshness;
  }
}

export const WROTE_RECENTLY_COOKIE = 'gatehouse_wrote';

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface ReadYourWritesOptions {
  /** A replica is configured: without one every read is of the latest data anyway. */
  enabled: boolean;
  /** How long after a change the client's reads go to the primary: the replica's allowed lag. */
  windowSeconds: number;
  secureCookie: boolean;
}

function freshnessOf(request: FastifyRequest): Freshness {
  if (request.cookies?.[WROTE_RECENTLY_COOKIE] !== undefined) return 'latest';
  return /(^|,)\s*no-cache\s*(,|$)/i.test(request.headers['cache-control'] ?? '') ? 'latest' : 'may-lag';
}

/** Needs @fastify/cookie registered first. */
export function installReadYourWrites(app: FastifyInstance, options: ReadYourWritesOptions): void {
  app.decorateRequest('readFreshness', {
    getter(this: FastifyRequest): Freshness {
      return options.enabled ? freshnessOf(this) : 'latest';
    },
  });
  if (!options.enabled) return;
  app.addHook('onSend', async (request, reply) => {
    if (SAFE_METHODS.has(request.method) || reply.statusCode >= 400) return;
    reply.setCookie(WROTE_RECENTLY_COOKIE, '1', { path: '/', maxAge: options.windowSeconds, httpOnly: true, sameSite: 'lax', secure: options.secureCookie });
  });
}
