// Admission control for password hashing, the one expensive step: past `maxQueued` admitted requests
// in this process, a request is refused at once with 503 OVERLOADED and Retry-After instead of queueing
// until its client times out. Admission comes before the captcha is consumed and before any write, so
// a refused request leaves nothing behind.
import { AppError } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';

export class HashAdmission {
  private admitted = 0;

  constructor(private readonly maxQueued: number, private readonly metrics?: Metrics) {}

  /**
   * Refuses at once when admit() would: called before the rate limits are counted, so that a request
   * refused for overload spends none of its client's allowance (retrying after Retry-After is never
   * punished with a 429) and costs the server next to nothing. Checked here rather than by admitting
   * first, so that a flood refused by the rate limits never holds a place in the queue.
   */
  assertRoom(): void {
    if (this.admitted >= this.maxQueued) {
      this.metrics?.overloaded.inc();
      throw new AppError('OVERLOADED', { retryAfterSeconds: 2 });
    }
  }

  async admit<T>(fn: () => Promise<T>): Promise<T> {
    this.assertRoom();
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
