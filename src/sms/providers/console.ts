// The default provider: writes the message to the log (the code masked) and to the sms_outbox table,
// which an admin reads (GET /api/admin/sms/outbox). For development and first installs, before a
// real provider is configured.
import type { Logger } from 'pino';
import type { Database } from '../../db/database.js';
import { maskPhone } from '../../text/phone.js';
import { messageText, type SmsProvider } from './types.js';

export function consoleProvider(database: Database, log: Pick<Logger, 'info'>): SmsProvider {
  return {
    name: 'console',
    notices: true,
    async send(message) {
      const row = await database.write(async (trx) => {
        // Idempotent per delivery: a repeated attempt of one task writes one row.
        const existing = await trx.selectFrom('sms_outbox').select('id').where('task_id', '=', message.deliveryId).executeTakeFirst();
        if (existing) return existing;
        return trx
          .insertInto('sms_outbox')
          .values({ at: Date.now(), phone: message.phone, purpose: message.purpose, message: messageText(message), task_id: message.deliveryId })
          .returning('id')
          .executeTakeFirstOrThrow();
      });
      log.info({ phone: maskPhone(message.phone), purpose: message.purpose, outbox_id: row.id }, 'SMS (console provider): written to the outbox');
      return { providerMessageId: `outbox:${row.id}` };
    },
  };
}
