// Captcha issue and one-time verification on the shared store. What is stored is an HMAC of the
// normalized answer bound to the captcha's id and purpose, never the answer itself.
import { AppError } from '../errors.js';
import type { KeyValueStore } from '../kv/store.js';
import type { Metrics } from '../observability/metrics.js';
import type { LimitedClient } from '../security/client-network.js';
import type { RateLimits } from '../security/rate-limits.js';
import { hmacHex, randomString, randomToken, secretsEqual } from '../security/tokens.js';
import { renderCaptchaPng } from './image.js';

/** 32 symbols (5 bits each) with no look-alikes: no I/1, O/0. Four characters = 20 bits. */
export const CAPTCHA_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

export const CAPTCHA_PURPOSES = ['any', 'login', 'register', 'sms'] as const;
export type CaptchaPurpose = (typeof CAPTCHA_PURPOSES)[number];
export type CaptchaUse = Exclude<CaptchaPurpose, 'any'>;

export interface IssuedCaptcha {
  id: string;
  pngBase64: string;
  expiresInSeconds: number;
}

export interface CaptchaServiceOptions {
  kv: KeyValueStore;
  secret: string;
  ttlSeconds: number;
  length: number;
  /** GATEHOUSE_TEST_CAPTCHA: every captcha's answer; still single-use and expiring. */
  testAnswer?: string | undefined;
  /** Draws a new answer; defaults to CSPRNG characters of CAPTCHA_ALPHABET. */
  drawAnswer?: (length: number) => string;
  rateLimits?: RateLimits;
  metrics?: Metrics;
}

export type CaptchaOutcome = 'ok' | 'wrong' | 'expired';

function normalizeAnswer(answer: string): string {
  return answer.replace(/\s+/g, '').toUpperCase();
}

export function drawRandomAnswer(length: number): string {
  return randomString(CAPTCHA_ALPHABET, length);
}

export class CaptchaService {
  constructor(private readonly options: CaptchaServiceOptions) {}

  private key(id: string): string {
    return `captcha:${id}`;
  }

  private digest(id: string, purpose: CaptchaPurpose, answer: string): string {
    return hmacHex(this.options.secret, 'captcha', id, purpose, normalizeAnswer(answer));
  }

  /** A new captcha; `client` counts against the per-address generation limit. */
  async issue(purpose: CaptchaPurpose = 'any', client?: LimitedClient): Promise<IssuedCaptcha> {
    const limits = this.options.rateLimits;
    if (limits && client !== undefined) await limits.enforceForClient(limits.captchaPerIp, client);
    const id = randomToken(16);
    const answer = this.options.testAnswer ?? (this.options.drawAnswer ?? drawRandomAnswer)(this.options.length);
    const png = await renderCaptchaPng(answer);
    await this.options.kv.put(this.key(id), `${purpose}:${this.digest(id, purpose, answer)}`, this.options.ttlSeconds * 1000);
    this.options.metrics?.captchas.inc({ result: 'generated' });
    return { id, pngBase64: png.toString('base64'), expiresInSeconds: this.options.ttlSeconds };
  }

  /**
   * Consumes the captcha whatever the answer: a wrong guess costs the captcha. Of concurrent attempts on
   * one captcha, the store lets at most one see it.
   */
  async check(id: string, answer: string, use: CaptchaUse): Promise<CaptchaOutcome> {
    const outcome = await this.consume(id, answer, use);
    this.options.metrics?.captchas.inc({ result: outcome });
    return outcome;
  }

  private async consume(id: string, answer: string, use: CaptchaUse): Promise<CaptchaOutcome> {
    const stored = await this.options.kv.takeOnce(this.key(id));
    if (stored === null) return 'expired';
    const separator = stored.indexOf(':');
    const purpose = stored.slice(0, separator) as CaptchaPurpose;
    if (purpose !== 'any' && purpose !== use) return 'wrong';
    return secretsEqual(stored.slice(separator + 1), this.digest(id, purpose, answer)) ? 'ok' : 'wrong';
  }

  /** check(), throwing the API error for anything but a right answer. */
  async verify(id: string, answer: string, use: CaptchaUse): Promise<void> {
    const outcome = await this.check(id, answer, use);
    if (outcome === 'expired') throw new AppError('CAPTCHA_EXPIRED');
    if (outcome === 'wrong') throw new AppError('CAPTCHA_INVALID');
  }
}
