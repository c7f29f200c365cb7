// The service's named rate limits, built from config on the shared store.
import type { RateLimitConfig } from '../config.js';
import { AppError } from '../errors.js';
import { createLimiter, type Limiter, type LimitState } from '../kv/rate-limiter.js';
import type { KeyValueStore } from '../kv/store.js';
import type { Metrics } from '../observability/metrics.js';
import { clientClassifier, type LimitedClient } from './client-network.js';

/** An address's use of the per-address limits, for the console and the CLI (JSON as the API answers). */
export interface AddressLimits {
  address: string;
  network: string;
  exempt: boolean;
  limits: Array<{ limit: string; points: number; used: number; resets_in_seconds: number }>;
}

/** A limit's name in answers and the console: its store prefix without `rl:`. */
function publicName(limiter: Limiter): string {
  return limiter.name.replace(/^rl:/, '');
}

export class RateLimits {
  readonly captchaPerIp: Limiter;
  readonly invitationPerIp: Limiter;
  readonly registerPerIp: Limiter;
  readonly loginPerIp: Limiter;
  readonly smsPerIp: Limiter;
  readonly loginPerAccount: Limiter;
  readonly loginPerAccountIp: Limiter;
  readonly apiKey: Limiter;
  /** Codes tried to turn an account's two-factor sign-in off, by user id. */
  readonly twoFactorDisable: Limiter;
  /** The limits keyed by the client's network alone: what an administrator can look at and lift. */
  private readonly perAddress: Limiter[];

  constructor(kv: KeyValueStore, private readonly config: RateLimitConfig, private readonly metrics?: Metrics) {
    this.captchaPerIp = createLimiter(kv, 'rl:captcha_ip', 'address', config.captchaPerIp);
    this.invitationPerIp = createLimiter(kv, 'rl:invitation_ip', 'address', config.invitationPerIp);
    this.registerPerIp = createLimiter(kv, 'rl:register_ip', 'address', config.registerPerIp);
    this.loginPerIp = createLimiter(kv, 'rl:login_ip', 'address', config.loginPerIp);
    this.smsPerIp = createLimiter(kv, 'rl:sms_ip', 'address', config.smsPerIp);
    this.loginPerAccount = createLimiter(kv, 'rl:login_account', 'account', config.loginPerAccount);
    this.loginPerAccountIp = createLimiter(kv, 'rl:login_account_ip', 'account', config.loginPerAccountIp);
    this.apiKey = createLimiter(kv, 'rl:api_key', 'api_key', config.apiKey);
    this.twoFactorDisable = createLimiter(kv, 'rl:two_factor_disable', 'account', config.twoFactorDisable);
    this.perAddress = [this.captchaPerIp, this.invitationPerIp, this.registerPerIp, this.loginPerIp, this.smsPerIp, this.loginPerAccount, this.loginPerAccountIp, this.apiKey, this.twoFactorDisable].filter(
      (limiter) => limiter.scope === 'address',
    );
  }

  /** Uses a point of `limiter` for `key` (answering what is left of it), or throws 429 RATE_LIMITED with Retry-After. */
  async enforce(limiter: Limiter, key: string): Promise<LimitState> {
    const result = await limiter.consume(key);
    if (result.allowed) return result;
    throw this.limitedError(limiter, result.msBeforeNext);
  }

  /** 429 RATE_LIMITED for `limiter`, counted; for a caller that learns only after the work that its last point is spent. */
  limitedError(limiter: Limiter, msBeforeNext: number): AppError {
    this.metrics?.rateLimited.inc({ limit: limiter.name });
    // Which limit, and what it counts: a page can tell "your network" (ask the organizer to lift it)
    // from "this account" without knowing the limits' names.
    return new AppError('RATE_LIMITED', { retryAfterSeconds: Math.max(1, Math.ceil(msBeforeNext / 1000)), details: { limit: publicName(limiter), scope: limiter.scope } });
  }

  /** A per-address limit: counts the client's network, unless its address is exempt. */
  async enforceForClient(limiter: Limiter, client: LimitedClient): Promise<void> {
    if (!client.exempt) await this.enforce(limiter, client.network);
  }

  /** What a client at `address` has used of each per-address limit in its current window. */
  async forAddress(address: string): Promise<AddressLimits> {
    const client = clientClassifier(this.config)(address);
    const limits = await Promise.all(
      this.perAddress.map(async (limiter) => {
        const state = await limiter.get(client.network);
        const used = Math.min(state?.consumed ?? 0, limiter.points);
        return { limit: publicName(limiter), points: limiter.points, used, resets_in_seconds: used > 0 ? Math.ceil((state?.msBeforeNext ?? 0) / 1000) : 0 };
      }),
    );
    return { address, ...client, limits };
  }

  /**
   * Forgets the use of every per-address limit by `address`'s network (an administrator lifting them
   * for a workshop's address); returns the network.
   */
  async resetForAddress(address: string): Promise<string> {
    const { network } = clientClassifier(this.config)(address);
    await Promise.all(this.perAddress.map((limiter) => limiter.delete(network)));
    return network;
  }
}
