// A server that is about to stop first says so: readiness fails, so that load balancers send new
// requests elsewhere, while every request that still arrives is served, its answer closing the
// connection so that no client keeps a kept-alive connection to a server that is going away.
import type { FastifyInstance } from 'fastify';

export interface DrainingState {
  readonly draining: boolean;
  beginDraining(): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Whether the server is draining before it stops, and the switch that begins it. */
    lifecycle: DrainingState;
  }
}

export function installDraining(app: FastifyInstance): DrainingState {
  let draining = false;
  const state: DrainingState = {
    get draining() {
      return draining;
    },
    beginDraining() {
      draining = true;
    },
  };
  app.decorate('lifecycle', state);
  app.addHook('onSend', async (_request, reply) => {
    if (draining) reply.header('connection', 'close');
  });
  return state;
}
