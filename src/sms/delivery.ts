// The sms.deliver task: unseals the code and hands it to the configured provider. Retried on
// provider errors and timeouts (with the same code, and the same delivery id for providers that drop
// duplicates); dead once the code has expired, since delivering it then would only confuse.
import { TaskPayloadError, type TaskHandler } from '../tasks/registry.js';
import { PermanentTaskError } from '../tasks/types.js';
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

export function smsDeliveryHandler(deps: { provider: () => SmsProvider; secret: string; now?: () => number }): TaskHandler<SmsDeliveryPayload> {
  const now = deps.now ?? Date.now;
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
      const sent = await provider.send(
        { phone: payload.phone, purpose: payload.purpose, code, minutes: Math.max(1, Math.ceil(remainingMs / 60_000)), deliveryId: context.taskId },
        context.signal,
      );
      return { provider: provider.name, message_id: sent.providerMessageId };
    },
  };
}
