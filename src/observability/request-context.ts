// The id of the request being served, wherever its work goes: a task that a request creates (SMS
// delivery, roster import, export) records it, and the task worker's log lines for that task carry it,
// so that one request can be followed through nginx, the server and the task worker by one id.
// It travels in async context (like a trace context) rather than as an argument through every
// service that may submit a task.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance } from 'fastify';

/** The log field that carries a request's id on every line: Fastify's name for it, used everywhere. */
export const REQUEST_ID_FIELD = 'reqId';

/** What a request id may look like when a client or proxy sends one (else the server makes its own). */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

const current = new AsyncLocalStorage<string>();

/** The id of the request (or of the task's creating request) whose work is running, if any. */
export function currentRequestId(): string | undefined {
  return current.getStore();
}

/** Runs fn with `requestId` as the current request's id (unchanged when there is none). */
export function withRequestId<T>(requestId: string | null | undefined, fn: () => T): T {
  return requestId ? current.run(requestId, fn) : fn();
}

/**
 * Makes each request's id current while its handler runs. preHandler, not onRequest: the body is read
 * between the two on the socket's own async context, which would lose the store; from preHandler on,
 * the route's own hooks and handler run inside it.
 */
export function installRequestContext(app: FastifyInstance): void {
  app.addHook('preHandler', (request, _reply, done) => {
    current.run(request.id, done);
  });
}

/** A pino mixin for processes that run work on behalf of requests: adds reqId to lines written for one. */
export function requestIdMixin(): Record<string, string> {
  const requestId = current.getStore();
  return requestId === undefined ? {} : { [REQUEST_ID_FIELD]: requestId };
}
