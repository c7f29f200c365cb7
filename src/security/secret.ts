// The key behind captcha and code HMACs. Every worker and server must share it: from SECRET_KEY, or
// in embedded mode from a file in DATA_DIR that the first start creates (readable by the owner only).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hmacHex, randomToken } from './tokens.js';

export function loadOrCreateSecret(secretKey: string | undefined, dataDir: string): string {
  if (secretKey) return secretKey;
  const file = path.join(dataDir, 'secret.key');
  mkdirSync(dataDir, { recursive: true });
  try {
    // 'wx' fails if the file exists, so two processes starting at once cannot write different keys.
    writeFileSync(file, randomToken(48) + '\n', { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const secret = readFileSync(file, 'utf8').trim();
  if (secret.length < 32) throw new Error(`${file} holds a key shorter than 32 characters; remove it or set SECRET_KEY`);
  return secret;
}

/**
 * A value that names the key without revealing it (an HMAC of a fixed label), so that servers can
 * check that they share one key by comparing what they store in the shared database.
 */
export function secretFingerprint(secret: string): string {
  return hmacHex(secret, 'gatehouse secret fingerprint v1').slice(0, 32);
}
