// The sms.deliver task: decides what the message carries, unseals the code and hands it to the
// configured provider. The decision is made here, not in the request: every send request does the
// same work (a code issued, a task queued) whether or not the number has an account, so that neither
// the answer nor its timing tells. Here a login or reset code goes only to an account's number, a
// registration code only to a free number (a taken one gets a notice that someone tried instead), a
// change-of-number code only to a free number. A number's daily cap is charged only for a message
// actually sent; a message not sent gives its place in the service's caps back.
// Retried on provider errors and timeouts (with the same code, and the same delivery id for providers
// that drop duplicates); dead once the code has expired, since delivering it then would only confuse.
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { SmsConfig } from '../config.js';
import { createLimiter } from '../kv/rate-limiter.js';
import type { KeyValueStore } from '../kv/store.js';
import { TaskPayloadError, type TaskHandler } from '../tasks/registry.js';
import { PermanentTaskError } from '../tasks/types.js';
import { SmsCaps } from './caps.js';
import { SMS_PURPOSES, type SmsPurpose } from './codes.js';
import type { SmsProvider } from './providers/types.js';
import { unseal } from '../security/seal.js';

export const SMS_DELIVERY_TASK = 'sms.deliver';

export interface SmsDeliveryPayload {
  phone: string;
  purpose: SmsPurpose;
  sealed_code: string;
  expires_at: number;
}

/** What a message to a number carries: its code, a notice to the owner that someone tried to register their number, or nothing at all. */
export type SmsContent = 'code' | 'taken_notice' | 'nothing';

export interface SmsDeliveryDeps {
  provider: () => SmsProvider;
  secret: string;
  kv: KeyValueStore;
  config: Pick<SmsConfig, 'dailyCap' | 'caps'>;
  /** The accounts feature's answer (the composition root passes it, so that sms/ does not import accounts/). */
  contentFor: (e164: string, purpose: SmsPurpose) => Promise<SmsContent>;
  now?: () => number;
}

export function smsDeliveryHandler(deps: SmsDeliveryDeps): TaskHandler<SmsDeliveryPayload> {
  const now = deps.now ?? Date.now;
  const caps = new SmsCaps(deps.kv, deps.config.caps);
  const daily = createLimiter(deps.kv, 'rl:sms_daily', 'phone', { points: deps.config.dailyCap, seconds: 86_400 });
  // One "someone tried to register your number" a day is enough to warn; more would be spam.
  const notices = createLimiter(deps.kv, 'rl:sms_taken_notice', 'phone', { points: 1, seconds: 86_400 });

  /** Whether the number's daily budget allows one more message (charged only on the first attempt: a retry is the same message). */
  async function charge(phone: string, content: SmsContent, attempt: number): Promise<boolean> {
    if (attempt > 1) return true;
    if (content === 'taken_notice' && !(await notices.consume(phone)).allowed) return false;
    return (await daily.consume(phone)).allowed;
  }

  return {
    type: SMS_DELIVERY_TASK,
    public: false,
    maxAttempts: 5,
    parse(payload) {
      const p = (payload ?? {}) as Partial<SmsDeliveryPayload>;
      if (typeof p.phone !== 'string' || !/^\+\d{6,15}$/.test(p.phone)) throw new TaskPayloadError('phone must be E.164');
      if (!SMS_PURPOSES.includes(p.purpose as SmsPurpose)) throw new TaskPayloadError(`purpose is not one of ${SMS_PURPOSES.join(', ')}`);
      if (typeof p.sealed_code !== 'string' || typeof p.expires_at !== 'number') throw new TaskPayloadError('sealed_code and expires_at are required');
      return { phone: p.phone, purpose: p.purpose as SmsPurpose, sealed_code: p.sealed_code, expires_at: p.expires_at };
    },
    async run(payload, context) {
      const remainingMs = payload.expires_at - now();
      if (remainingMs <= 0) throw new PermanentTaskError('the code expired before it could be delivered');
      let code: string;
      try {
        code = unseal(deps.secret, 'sms code', payload.sealed_code);
      } catch {
        throw new PermanentTaskError('the code cannot be unsealed with this server secret (SECRET_KEY differs between servers?)');
      }
      const provider = deps.provider();
      let content = await deps.contentFor(payload.phone, payload.purpose);
      if (content === 'taken_notice' && !provider.notices) content = 'nothing';
      if (content !== 'nothing' && !(await charge(payload.phone, content, context.attempt))) content = 'nothing';
      if (content === 'nothing') {
        const region = parsePhoneNumberFromString(payload.phone)?.country;
        if (region) await caps.release(region);
        return { sent: 'nothing' };
      }
      const sent = await provider.send(
        {
          phone: payload.phone,
          purpose: payload.purpose,
          kind: content,
          code: content === 'code' ? code : '',
          minutes: Math.max(1, Math.ceil(remainingMs / 60_000)),
          deliveryId: context.taskId,
        },
        context.signal,
      );
      return { sent: content, provider: provider.name, message_id: sent.providerMessageId };
    },
  };
}
