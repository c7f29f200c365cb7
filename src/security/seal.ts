// Secrets that must be stored but never readable from storage alone are sealed (AES-256-GCM, a key
// derived from the service secret, one key per purpose): SMS codes on their way to the delivery task
// through the durable queue, so that the tasks table never holds a usable code; authenticator-app
// secrets in the users table, so that a copy of the database cannot produce sign-in codes; upstream
// sign-in providers' app secrets, so that it cannot call WeChat or DingTalk as the school either.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/** What a sealed value is for; each purpose has its own key, so one cannot be opened as another. */
export type SealPurpose = 'sms code' | 'totp secret' | 'oidc signing key' | 'sign-in provider secret';

// The SMS key's label predates the others: kept, so that codes sealed before an upgrade still open.
const LABELS: Record<SealPurpose, string> = { 'sms code': 'gatehouse sms seal v1', 'totp secret': 'gatehouse totp secret seal v1', 'oidc signing key': 'gatehouse oidc signing key seal v1', 'sign-in provider secret': 'gatehouse sign-in provider secret seal v1' };

function keyFrom(secret: string, purpose: SealPurpose): Buffer {
  return createHmac('sha256', secret).update(LABELS[purpose]).digest();
}

export function seal(secret: string, purpose: SealPurpose, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFrom(secret, purpose), iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** The sealed text, or throws when it was not sealed with this secret or was altered. */
export function unseal(secret: string, purpose: SealPurpose, sealed: string): string {
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length < 29) throw new Error('sealed value is too short');
  const decipher = createDecipheriv('aes-256-gcm', keyFrom(secret, purpose), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}
