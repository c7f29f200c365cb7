// The service's named rate limits, built from config on the shared store.
import type { RateLimitConfig } from '../config.js';
import { AppError } from '../errors.js';
import { createLimiter, type Limiter } from '../kv/rate-limiter.js';
import type { KeyValueStore } from '../kv/store.js';
import type { Metrics } from '../observability/metrics.js';

export class RateLimits {
  readonly captchaPerIp: Limiter;
  readonly registerPerIp: Limiter;
  readonly loginPerIp: Limiter;
  readonly loginPerAccount: Limiter;
  readonly loginPerAccountIp: Limiter;
  readonly apiKey: Limiter;

  constructor(kv: KeyValueStore, config: RateLimitConfig, private readonly metrics?: Metrics) {
    this.captchaPerIp = createLimiter(kv, 'rl:captcha_ip', config.captchaPerIp);
    this.registerPerIp = createLimiter(kv, 'rl:register_ip', config.registerPerIp);
    this.loginPerIp = createLimiter(kv, 'rl:login_ip', config.loginPerIp);
    this.loginPerAccount = createLimiter(kv, 'rl:login_account', config.loginPerAccount);
    this.loginPerAccountIp = createLimiter(kv, 'rl:login_account_ip', config.loginPerAccountIp);
    this.apiKey = createLimiter(kv, 'rl:api_key', config.apiKey);
  }

  /** Uses a point of `limiter` for `key`, or throws 429 RATE_LIMITED with Retry-After. */
  async enforce(limiter: Limiter, key: string): Promise<void> {
    const result = await limiter.consume(key);
    if (result.allowed) return;
    this.metrics?.rateLimited.inc({ limit: limiter.name });
    throw new AppError('RATE_LIMITED', { retryAfterSeconds: Math.max(1, Math.ceil(result.msBeforeNext / 1000)) });
  }
}
