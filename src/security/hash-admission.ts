// Admission control for password hashing, the one expensive step. Past `max` admitted requests in this
// process, a request is refused at once with 503 OVERLOADED and Retry-After instead of queueing until
// its client times out. Admission comes before the captcha is consumed and before any write, so a
// refused request leaves nothing behind.
import { AppError } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';

export class HashAdmission {
  private depth = 0;

  constructor(private readonly max: number, private readonly metrics?: Metrics) {}

  get queued(): number {
    return this.depth;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.depth >= this.max) {
      this.metrics?.overloaded.inc();
      throw new AppError('OVERLOADED', { retryAfterSeconds: 2 });
    }
    this.depth++;
    this.metrics?.hashQueueDepth.set(this.depth);
    try {
      return await fn();
    } finally {
      this.depth--;
      this.metrics?.hashQueueDepth.set(this.depth);
    }
  }
}
