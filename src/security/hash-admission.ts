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
   * admit(), with `gate` (the request's rate limits) run first and only when there is room: a request
   * refused for overload spends none of its client's allowance (retrying after Retry-After is never
   * punished with a 429) and costs the server next to nothing, and since the place is taken only after
   * the gate, a flood that the rate limits refuse never holds a place in the queue.
   */
  async admitAfter<T>(gate: () => Promise<void>, fn: () => Promise<T>): Promise<T> {
    this.assertRoom();
    await gate();
    return this.admit(fn);
  }

  private assertRoom(): void {
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
