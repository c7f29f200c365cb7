// Sending SMS codes: POST /api/auth/sms/send. Every paid message is bounded before anything is
// queued: only to mobile numbers of the regions the operator allows; a registration code only with
// the invitation code of an organization that checks phone numbers, counted against that code's
// places; a change-of-number code only for a signed-in account; a linking code only for a browser
// with a provider's sign-in waiting for its phone number; and within the service's hourly and
// daily caps. Past those checks the request does the same work whatever the number (a code issued, a
// delivery task queued) and answers the same: the delivery task decides whether the message carries
// the code, a notice or nothing (sms/delivery.ts), so that neither the answer nor its timing tells
// whether the number has an account.
import type { CountryCode } from 'libphonenumber-js';
import type { ClientContext } from '../security/client-network.js';
import { maskPhone, type NormalizedPhone } from '../text/phone.js';
import type { AuditLog } from '../audit/service.js';
import type { CaptchaGate, CaptchaProof } from '../captcha/gate.js';
import type { SmsConfig } from '../config.js';
import { AppError } from '../errors.js';
import { createLimiter, type Limiter } from '../kv/rate-limiter.js';
import type { KeyValueStore } from '../kv/store.js';
import type { RateLimits } from '../security/rate-limits.js';
import type { TaskService } from '../tasks/service.js';
import { SmsCaps } from './caps.js';
import type { SmsCodes, SmsPurpose } from './codes.js';
import { SMS_DELIVERY_TASK, type SmsDeliveryPayload } from './delivery.js';
import { smsDestinationRegion } from './destinations.js';
import { seal } from '../security/seal.js';

export interface SmsSendInput extends CaptchaProof {
  phone: string;
  purpose: SmsPurpose;
  /** Purpose register: the invitation code of the organization being registered into. */
  invitationCode?: string | undefined;
  /** Purpose change_phone: the request comes from a signed-in account. */
  signedIn: boolean;
  /** Purpose link_identity: the browser has a sign-in through a provider waiting for its phone number. */
  pendingSignIn: boolean;
}

/** What sms/ needs of the accounts feature (the composition root passes AccountService, so that sms/ does not import it). */
export interface SmsRecipients {
  /** The phone number as stored; INVALID_PHONE. */
  parsePhone(raw: string): NormalizedPhone;
}

/** What sms/ needs of the organizations feature: counting a registration code against its invitation code. */
export interface SmsInvitations {
  takeSmsSend(invitationCode: string, sendsPerPlace: number): Promise<void>;
}

export interface SmsServiceDeps {
  kv: KeyValueStore;
  secret: string;
  config: SmsConfig;
  codes: SmsCodes;
  captcha: CaptchaGate;
  accounts: SmsRecipients;
  invitations: SmsInvitations;
  tasks: TaskService;
  rateLimits: RateLimits;
  audit: AuditLog;
}

/** SMS delivery goes ahead of bulk work in the queue. */
const DELIVERY_PRIORITY = 8;

export class SmsService {
  private readonly resend: Limiter;
  readonly caps: SmsCaps;

  constructor(private readonly deps: SmsServiceDeps) {
    this.resend = createLimiter(deps.kv, 'rl:sms_resend', 'phone', { points: 1, seconds: deps.config.resendSeconds });
    this.caps = new SmsCaps(deps.kv, deps.config.caps);
  }

  /** The caps' use now, for the metrics. */
  capUse() {
    return this.caps.use(this.deps.config.allowedRegions);
  }

  async send(input: SmsSendInput, client: ClientContext): Promise<{ expiresInSeconds: number; resendAfterSeconds: number }> {
    const phone = this.deps.accounts.parsePhone(input.phone);
    // Where it would go and who may ask, first: a refused request costs no captcha and counts nowhere.
    const region = smsDestinationRegion(phone.e164, this.deps.config.allowedRegions);
    if (input.purpose === 'register' && !input.invitationCode) throw new AppError('SMS_INVITATION_REQUIRED');
    if (input.purpose === 'change_phone' && !input.signedIn) throw new AppError('UNAUTHENTICATED');
    if (input.purpose === 'link_identity' && !input.pendingSignIn) throw new AppError('SIGN_IN_PENDING_NOT_FOUND');
    const limits = this.deps.rateLimits;
    await limits.enforceForClient(limits.smsPerIp, client);
    await this.deps.captcha.verify(input, 'sms', phone.e164);
    await limits.enforce(this.resend, `${phone.e164}|${input.purpose}`);
    await this.reserve(region, input);

    const code = await this.deps.codes.issue(phone.e164, input.purpose);
    const payload: SmsDeliveryPayload = {
      phone: phone.e164,
      purpose: input.purpose,
      sealed_code: seal(this.deps.secret, 'sms code', code),
      expires_at: Date.now() + this.deps.config.codeTtlSeconds * 1000,
    };
    await this.deps.tasks.submit({ type: SMS_DELIVERY_TASK, payload, priority: DELIVERY_PRIORITY }, null, false);
    await this.deps.audit.record({ event: 'sms.sent', target: `phone:${maskPhone(phone.e164)}`, ip: client.ip, detail: { purpose: input.purpose } });
    return { expiresInSeconds: this.deps.config.codeTtlSeconds, resendAfterSeconds: this.deps.config.resendSeconds };
  }

  /** A place in the service's caps, and for a registration code one of its invitation code's sends; both or neither. */
  private async reserve(region: CountryCode, input: SmsSendInput): Promise<void> {
    await this.caps.reserve(region);
    if (input.purpose !== 'register') return;
    try {
      await this.deps.invitations.takeSmsSend(input.invitationCode!, this.deps.config.sendsPerPlace);
    } catch (error) {
      await this.caps.release(region);
      throw error;
    }
  }
}
