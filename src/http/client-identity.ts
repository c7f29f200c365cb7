// Who sent a request, as the services see it: the address (kept exact, for sessions and the audit
// log), and the network and exemption that the per-address rate limits count (security/client-network.ts).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { clientClassifier, type Addressing, type ClientContext, type LimitedClient } from '../security/client-network.js';
import { KNOWN_DEVICE_COOKIE, SECURE_KNOWN_DEVICE_COOKIE } from '../security/known-devices.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** How the per-address rate limits see the client (computed when first asked). */
    readonly limitedClient: LimitedClient;
  }
}

export function installClientIdentity(app: FastifyInstance, addressing: Addressing): void {
  const classify = clientClassifier(addressing);
  const cache = new WeakMap<FastifyRequest, LimitedClient>();
  app.decorateRequest('limitedClient', {
    getter(this: FastifyRequest) {
      let client = cache.get(this);
      if (!client) cache.set(this, (client = classify(this.ip)));
      return client;
    },
  });
}

export function clientOf(request: FastifyRequest): ClientContext {
  // Only one of the two names is ever set by one deployment (prefixed when its cookies are Secure).
  const deviceCookie = request.cookies[SECURE_KNOWN_DEVICE_COOKIE] ?? request.cookies[KNOWN_DEVICE_COOKIE];
  return { ip: request.ip, ...request.limitedClient, userAgent: request.headers['user-agent'] ?? null, deviceCookie };
}
