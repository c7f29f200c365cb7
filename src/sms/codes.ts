// SMS verification codes on the shared store, like captchas: what is stored is an HMAC of the code
// bound to the phone number and purpose, never the code; a code lives SMS_CODE_TTL_SECONDS, survives
// at most SMS_CODE_MAX_TRIES wrong guesses (the next one destroys it), and is consumed atomically by
// the first right answer — of any number of concurrent attempts, on any worker, one wins.
import { randomInt } from 'node:crypto';
import type { KeyValueStore } from '../kv/store.js';
import { hmacHex, secretsEqual } from '../security/tokens.js';

/**
 * register and change_phone go to a number without an account; login and reset_password to an account's;
 * link_identity to either (a first sign-in through WeChat, WeCom… proves the phone, then links or registers).
 */
export const SMS_PURPOSES = ['register', 'login', 'reset_password', 'change_phone', 'link_identity'] as const;
export type SmsPurpose = (typeof SMS_PURPOSES)[number];

export interface SmsCodeOptions {
  ttlSeconds: number;
  maxTries: number;
}

export class SmsCodes {
  constructor(
    private readonly kv: KeyValueStore,
    private readonly secret: string,
    private readonly options: SmsCodeOptions,
  ) {}

  private codeKey(phone: string, purpose: SmsPurpose) {
    return `sms:code:${purpose}:${phone}`;
  }

  private triesKey(phone: string, purpose: SmsPurpose) {
    return `sms:tries:${purpose}:${phone}`;
  }

  private digest(phone: string, purpose: SmsPurpose, code: string) {
    return hmacHex(this.secret, 'sms-code', phone, purpose, code);
  }

  /** A new 6-digit code for phone and purpose; it replaces any earlier one. */
  async issue(phone: string, purpose: SmsPurpose): Promise<string> {
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    await this.kv.delete(this.triesKey(phone, purpose));
    await this.kv.put(this.codeKey(phone, purpose), this.digest(phone, purpose, code), this.options.ttlSeconds * 1000);
    return code;
  }

  /** True once for the right code; false for a wrong, expired, used or destroyed one. */
  async consume(phone: string, purpose: SmsPurpose, code: string): Promise<boolean> {
    const key = this.codeKey(phone, purpose);
    const stored = await this.kv.get(key);
    if (stored === null) return false;
    const tries = await this.kv.increment(this.triesKey(phone, purpose), this.options.ttlSeconds * 1000);
    if (tries.value > this.options.maxTries) {
      await this.kv.delete(key);
      return false;
    }
    if (!/^\d{6}$/.test(code) || !secretsEqual(stored, this.digest(phone, purpose, code))) return false;
    // Right answer: whoever takes it first wins; a concurrent right answer finds nothing.
    const taken = await this.kv.takeOnce(key);
    return taken !== null && secretsEqual(taken, stored);
  }
}
