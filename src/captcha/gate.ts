// The captcha every protected route asks for, of either kind: an image captcha (captcha_id + captcha) or a
// proof-of-work solution (altcha), as CAPTCHA_MODE allows.
import type { CountryCode } from 'libphonenumber-js';
import { AppError } from '../errors.js';
import type { LimitedClient } from '../security/client-network.js';
import { normalizePhone } from '../text/phone.js';
import type { CaptchaMode } from '../config.js';
import type { ProofOfWork } from './pow.js';
import type { CaptchaPurpose, CaptchaService, CaptchaUse } from './service.js';

/** What a request submits to pass the captcha: one kind or the other. */
export interface CaptchaProof {
  captchaId?: string | undefined;
  captcha?: string | undefined;
  /** The ALTCHA payload: base64 of {challenge, solution}. */
  altcha?: string | undefined;
}

export interface CaptchaGateOptions {
  mode: CaptchaMode;
  image: CaptchaService;
  pow: ProofOfWork;
  defaultRegion: CountryCode;
}

export class CaptchaGate {
  constructor(private readonly options: CaptchaGateOptions) {}

  get mode(): CaptchaMode {
    return this.options.mode;
  }

  acceptsImage(): boolean {
    return this.options.mode !== 'pow';
  }

  acceptsPow(): boolean {
    return this.options.mode !== 'image';
  }

  /** The phone number as the difficulty counts it: E.164 when valid, so that every spelling counts once. */
  private phoneKey(phone: string | undefined): string | undefined {
    if (phone === undefined) return undefined;
    return normalizePhone(phone, this.options.defaultRegion)?.e164 ?? phone.slice(0, 32);
  }

  /** A proof-of-work challenge, refused when CAPTCHA_MODE=image. */
  async issuePow(purpose: CaptchaPurpose, client?: LimitedClient, phone?: string) {
    if (!this.acceptsPow()) throw new AppError('CAPTCHA_KIND_NOT_ACCEPTED');
    return this.options.pow.issue(purpose, client, this.phoneKey(phone));
  }

  /** An image captcha, refused when CAPTCHA_MODE=pow. */
  async issueImage(purpose: CaptchaPurpose, client?: LimitedClient) {
    if (!this.acceptsImage()) throw new AppError('CAPTCHA_KIND_NOT_ACCEPTED');
    return this.options.image.issue(purpose, client);
  }

  /** Passes one captcha of an accepted kind for `use`, or throws the API error. */
  async verify(proof: CaptchaProof, use: CaptchaUse, phone?: string): Promise<void> {
    const pow = checkOneKind(proof);
    if (pow) {
      if (!this.acceptsPow()) throw new AppError('CAPTCHA_KIND_NOT_ACCEPTED');
      await this.options.pow.verify(proof.altcha!, use, this.phoneKey(phone));
      return;
    }
    if (!this.acceptsImage()) throw new AppError('CAPTCHA_KIND_NOT_ACCEPTED');
    await this.options.image.verify(proof.captchaId!, proof.captcha!, use);
  }
}

/**
 * Which kind the request sends (true: proof of work); refuses none, both, or half of the image captcha as the
 * schema would, since a JSON schema of optional fields cannot say "one of these groups".
 */
function checkOneKind(proof: CaptchaProof): boolean {
  const image = proof.captchaId !== undefined || proof.captcha !== undefined;
  const pow = proof.altcha !== undefined;
  if (image && pow) throw new AppError('VALIDATION_FAILED', { message: 'send one captcha: captcha_id with captcha, or altcha, not both', details: { field: 'body.altcha' } });
  if (pow) return true;
  if (proof.captchaId === undefined) throw new AppError('VALIDATION_FAILED', { message: 'a captcha is required: captcha_id with captcha (the picture), or altcha (the proof of work)', details: { field: 'body.captcha_id' } });
  if (proof.captcha === undefined) throw new AppError('VALIDATION_FAILED', { message: 'captcha_id needs captcha, the answer', details: { field: 'body.captcha' } });
  return false;
}
