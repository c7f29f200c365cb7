// Password hashing (argon2id, OWASP parameters) and the password policy (NIST SP 800-63B spirit).
import { hash, verify } from '@node-rs/argon2';
import { COMMON_PASSWORDS } from './common-passwords.js';
import { randomToken } from './tokens.js';

// OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
// algorithm 2 is Algorithm.Argon2id (a const enum, which isolated modules cannot import).
export const ARGON2_OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

/** Runs off the event loop (in libuv's thread pool). */
export function hashPassword(password: string): Promise<string> {
  return hash(password.normalize('NFKC'), ARGON2_OPTIONS);
}

export async function verifyPassword(storedHash: string, password: string): Promise<boolean> {
  try {
    return await verify(storedHash, password.normalize('NFKC'));
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;
/**
 * Verifies against a hash of a random password, so that an unknown account costs the same time as a
 * known one with a wrong password.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword(randomToken());
  await verifyPassword(await dummyHash, password);
  return false;
}

export type PasswordProblem = 'too_short' | 'too_long' | 'common' | 'contains_phone' | 'repetitive';

/** Returns what is wrong with a new password, or null. Code points are counted, not UTF-16 units. */
export function checkPasswordPolicy(password: string, context: { phoneDigits?: string } = {}): PasswordProblem | null {
  const length = [...password.normalize('NFKC')].length;
  if (length < PASSWORD_MIN_LENGTH) return 'too_short';
  if (length > PASSWORD_MAX_LENGTH) return 'too_long';
  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) return 'common';
  if (/^(.)\1+$/u.test(password)) return 'repetitive';
  // The account's own phone number is the first thing an attacker tries.
  if (context.phoneDigits && context.phoneDigits.length >= 6 && password.includes(context.phoneDigits)) return 'contains_phone';
  return null;
}
