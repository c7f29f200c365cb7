// Admission control for password hashing, the one expensive step: past `maxQueued` admitted requests
// in this process, a request is refused at once with 503 OVERLOADED and Retry-After instead of queueing
// until its client times out. Admission comes before the captcha is consumed and before any write, so
// a refused request leaves nothing behind.
import { AppError } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';

export class HashAdmission {
  private admitted = 0;

  constructor(private readonly maxQueued: number, private readonly metrics?: Metrics) {}

  async admit<T>(fn: () => Promise<T>): Promise<T> {
    if (this.admitted >= this.maxQueued) {
      this.metrics?.overloaded.inc();
      throw new AppError('OVERLOADED', { retryAfterSeconds: 2 });
    }
    this.admitted++;
    this.metrics?.hashQueueDepth.set(this.admitted);
    try {
      return await fn();
    } finally {
      this.admitted--;
      this.metrics?.hashQueueDepth.set(this.admitted);
    }
  }
}
