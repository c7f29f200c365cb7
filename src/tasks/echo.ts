// system.echo: returns its message, optionally after a delay. A canary for monitoring (is a worker
// taking tasks, how long does the queue take?) and for an operator checking a new deployment.
import { setTimeout as sleep } from 'node:timers/promises';
import { TaskPayloadError, type TaskHandler } from './registry.js';

export interface EchoPayload {
  message: string;
  delay_ms: number;
}

const MAX_DELAY_MS = 60_000;

export const echoHandler: TaskHandler<EchoPayload> = {
  type: 'system.echo',
  public: true,
  maxAttempts: 3,
  parse(payload) {
    const { message = '', delay_ms = 0, ...rest } = (payload ?? {}) as Record<string, unknown>;
    if (Object.keys(rest).length > 0) throw new TaskPayloadError(`unknown field "${Object.keys(rest)[0]}"`);
    if (typeof message !== 'string' || message.length > 1000) throw new TaskPayloadError('message must be a string of at most 1000 characters');
    if (!Number.isInteger(delay_ms) || (delay_ms as number) < 0 || (delay_ms as number) > MAX_DELAY_MS) {
      throw new TaskPayloadError(`delay_ms must be a whole number from 0 to ${MAX_DELAY_MS}`);
    }
    return { message, delay_ms: delay_ms as number };
  },
  async run(payload, context) {
    if (payload.delay_ms > 0) await sleep(payload.delay_ms, undefined, { signal: context.signal });
    return { message: payload.message, attempt: context.attempt };
  },
};
