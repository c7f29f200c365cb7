// Codes travel to the delivery task through the durable queue; they are sealed (AES-256-GCM, a key
// derived from the service secret) so that the tasks table never holds a usable code.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

function keyFrom(secret: string): Buffer {
  return createHmac('sha256', secret).update('gatehouse sms seal v1').digest();
}

export function seal(secret: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFrom(secret), iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** The sealed text, or throws when it was not sealed with this secret or was altered. */
export function unseal(secret: string, sealed: string): string {
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length < 29) throw new Error('sealed value is too short');
  const decipher = createDecipheriv('aes-256-gcm', keyFrom(secret), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}
