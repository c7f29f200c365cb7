// Delivers by POSTing JSON to an operator's URL, signed so that the receiver can tell it is from us:
//   X-Gatehouse-Timestamp: <unix seconds>
//   X-Gatehouse-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
//   Idempotency-Key: <delivery id>   (the same for every retry of one delivery)
// 2xx: delivered. 408, 429 and 5xx: retried. Other 4xx: the receiver refused it for good.
import { createHmac } from 'node:crypto';
import { fetchWithTimeout, messageText, PermanentSmsError, type SmsProvider } from './types.js';

export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function webhookProvider(options: { url: string; secret: string; timeoutMs: number; now?: () => number }): SmsProvider {
  const now = options.now ?? Date.now;
  return {
    name: 'webhook',
    notices: true,
    async send(message, signal) {
      const body = JSON.stringify({ id: message.deliveryId, to: message.phone, purpose: message.purpose, kind: message.kind, code: message.code, text: messageText(message) });
      const timestamp = Math.floor(now() / 1000);
      const response = await fetchWithTimeout(
        options.url,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-gatehouse-timestamp': String(timestamp),
            'x-gatehouse-signature': signWebhook(options.secret, timestamp, body),
            'idempotency-key': message.deliveryId,
          },
          body,
        },
        options.timeoutMs,
        signal,
      );
      const text = await response.text().catch(() => '');
      if (response.ok) return { providerMessageId: response.headers.get('x-message-id') };
      const error = `webhook answered ${response.status}: ${text.slice(0, 200)}`;
      if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) throw new PermanentSmsError(error);
      throw new Error(error);
    },
  };
}
