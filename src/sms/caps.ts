// The service's SMS budget: messages per hour and per day, in all and per region. A send reserves a
// place in each window before anything is queued, so that a flood stops at the cap however fast it
// comes (fail closed: 429 SMS_CAP_REACHED until the window ends, and a store that cannot count is a
// 503); the delivery task gives the place back when it sends nothing (no account for a login code, a
// number's daily cap reached), so that the caps count messages actually sent.
import type { CountryCode } from 'libphonenumber-js';
import type { SmsConfig } from '../config.js';
import { AppError } from '../errors.js';
import { createLimiter, type Limiter } from '../kv/rate-limiter.js';
import type { KeyValueStore } from '../kv/store.js';

export type CapWindow = 'hour' | 'day';

/** One cap's use: scope is `global` or a region code. */
export interface CapUse {
  scope: string;
  window: CapWindow;
  used: number;
  cap: number;
}

interface Cap {
  scope: 'global' | 'region';
  window: CapWindow;
  limiter: Limiter;
}

const GLOBAL_KEY = 'all';

export class SmsCaps {
  private readonly caps: Cap[];

  constructor(kv: KeyValueStore, caps: SmsConfig['caps']) {
    const cap = (scope: Cap['scope'], window: CapWindow, points: number): Cap => ({
      scope,
      window,
      limiter: createLimiter(kv, `rl:sms_cap_${scope}_${window}`, 'phone', { points, seconds: window === 'hour' ? 3600 : 86_400 }),
    });
    this.caps = [cap('global', 'hour', caps.globalHourly), cap('global', 'day', caps.globalDaily), cap('region', 'hour', caps.regionHourly), cap('region', 'day', caps.regionDaily)];
  }

  private key(cap: Cap, region: CountryCode): string {
    return cap.scope === 'global' ? GLOBAL_KEY : region;
  }

  /** Takes one message's place in every cap, or none of them and throws 429 SMS_CAP_REACHED. */
  async reserve(region: CountryCode): Promise<void> {
    const taken: Cap[] = [];
    for (const cap of this.caps) {
      const result = await cap.limiter.consume(this.key(cap, region));
      if (result.allowed) {
        taken.push(cap);
        continue;
      }
      // A refused request is no message: it does not count, here or in the caps already passed.
      await Promise.all([cap, ...taken].map((c) => c.limiter.reward(this.key(c, region))));
      throw new AppError('SMS_CAP_REACHED', { retryAfterSeconds: Math.max(1, Math.ceil(result.msBeforeNext / 1000)), details: { cap: cap.scope, window: cap.window } });
    }
  }

  /** Gives a reserved place back: the message was not sent. */
  async release(region: CountryCode): Promise<void> {
    await Promise.all(this.caps.map((cap) => cap.limiter.reward(this.key(cap, region))));
  }

  /** Each cap's use in its current window, for the metrics (the regions' caps for `regions`). */
  async use(regions: readonly CountryCode[]): Promise<CapUse[]> {
    const reads = this.caps.flatMap((cap) => (cap.scope === 'global' ? [{ cap, scope: 'global', key: GLOBAL_KEY }] : regions.map((region) => ({ cap, scope: region as string, key: region as string }))));
    return Promise.all(
      reads.map(async ({ cap, scope, key }) => {
        const state = await cap.limiter.get(key);
        return { scope, window: cap.window, used: Math.max(0, state?.consumed ?? 0), cap: cap.limiter.points };
      }),
    );
  }
}
