// Sending SMS codes: POST /api/auth/sms/send. The answer is the same whether or not an account
// exists for the phone (login, reset) or is already taken (register): a code is only delivered when
// it can be used, but the caller cannot tell. Every limit applies before that decision, so that
// limits do not reveal it either.
import type { ClientContext } from '../security/client-network.js';
import { maskPhone, type NormalizedPhone } from '../text/phone.js';
import type { AuditLog } from '../audit/service.js';
import type { CaptchaService } from '../captcha/service.js';
import type { SmsConfig } from '../config.js';
import { createLimiter, type Limiter } from '../kv/rate-limiter.js';
import type { KeyValueStore } from '../kv/store.js';
import type { RateLimits } from '../security/rate-limits.js';
import type { TaskService } from '../tasks/service.js';
import type { SmsCodes, SmsPurpose } from './codes.js';
import { SMS_DELIVERY_TASK, type SmsDeliveryPayload } from './delivery.js';
import { seal } from '../security/seal.js';

export interface SmsSendInput {
  phone: string;
  purpose: SmsPurpose;
  captchaId: string;
  captcha: string;
}

/** Who may receive a code: the accounts feature answers (the composition root passes AccountService), so that sms/ does not import it. */
export interface SmsRecipients {
  /** The phone number as stored; INVALID_PHONE. */
  parsePhone(raw: string): NormalizedPhone;
  /** Whether a code for `purpose` would be usable by this phone. */
  canReceiveCode(e164: string, purpose: SmsPurpose): Promise<boolean>;
}

export interface SmsServiceDeps {
  kv: KeyValueStore;
  secret: string;
  config: SmsConfig;
  codes: SmsCodes;
  captcha: CaptchaService;
  accounts: SmsRecipients;
  tasks: TaskService;
  rateLimits: RateLimits;
  audit: AuditLog;
}

/** SMS delivery goes ahead of bulk work in the queue. */
const DELIVERY_PRIORITY = 8;

export class SmsService {
  private readonly resend: Limiter;
  private readonly daily: Limiter;

  constructor(private readonly deps: SmsServiceDeps) {
    this.resend = createLimiter(deps.kv, 'rl:sms_resend', 'phone', { points: 1, seconds: deps.config.resendSeconds });
    this.daily = createLimiter(deps.kv, 'rl:sms_daily', 'phone', { points: deps.config.dailyCap, seconds: 86_400 });
  }

  async send(input: SmsSendInput, client: ClientContext): Promise<{ expiresInSeconds: number; resendAfterSeconds: number }> {
    const phone = this.deps.accounts.parsePhone(input.phone);
    const limits = this.deps.rateLimits;
    await limits.enforceForClient(limits.smsPerIp, client);
    await this.deps.captcha.verify(input.captchaId, input.captcha, 'sms');
    await limits.enforce(this.resend, `${phone.e164}|${input.purpose}`);
    await limits.enforce(this.daily, phone.e164);

    const deliver = await this.deps.accounts.canReceiveCode(phone.e164, input.purpose);
    if (deliver) {
      const code = await this.deps.codes.issue(phone.e164, input.purpose);
      const payload: SmsDeliveryPayload = {
        phone: phone.e164,
        purpose: input.purpose,
        sealed_code: seal(this.deps.secret, 'sms code', code),
        expires_at: Date.now() + this.deps.config.codeTtlSeconds * 1000,
      };
      await this.deps.tasks.submit({ type: SMS_DELIVERY_TASK, payload, priority: DELIVERY_PRIORITY }, null, false);
    }
    await this.deps.audit.record({ event: 'sms.sent', target: `phone:${maskPhone(phone.e164)}`, ip: client.ip, detail: { purpose: input.purpose, delivered: deliver } });
    return { expiresInSeconds: this.deps.config.codeTtlSeconds, resendAfterSeconds: this.deps.config.resendSeconds };
  }
}
