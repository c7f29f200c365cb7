// Password hashing (argon2id, OWASP parameters, a bounded number of computations at once) and the
// password policy (NIST SP 800-63B spirit).
import { availableParallelism } from 'node:os';
import { isCommonPassword } from './common-passwords.js';
import { createThreadHashRunner, type ThreadHashRunner } from './hash-threads.js';
import { randomToken } from './tokens.js';

// OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1. algorithm 2 is Algorithm.Argon2id
// (a const enum, which isolated modules cannot import).
export const ARGON2_OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(storedHash: string, password: string): Promise<boolean>;
  /**
   * Verifies against a hash of a random password, so that an unknown account costs the same time as a
   * known one with a wrong password.
   */
  verifyAgainstDummy(password: string): Promise<false>;
}

export interface HashTask {
  op: 'hash' | 'verify';
  password: string;
  /** The stored hash, for verify. */
  hash?: string;
}

/** Where argon2 computations run: this process's hashing threads, or the machine's pool (cluster primary). */
export interface HashRunner {
  run(task: HashTask): Promise<string | boolean>;
}

/** The password hasher on a runner: argon2id with the service's parameters, NFKC-normalized input. */
export function passwordHasher(runner: HashRunner): PasswordHasher {
  let dummyHash: Promise<string> | undefined;
  const hash = async (password: string) => (await runner.run({ op: 'hash', password: password.normalize('NFKC') })) as string;
  const verify = async (storedHash: string, password: string) => (await runner.run({ op: 'verify', hash: storedHash, password: password.normalize('NFKC') })) === true;
  return {
    hash,
    verify,
    async verifyAgainstDummy(password) {
      dummyHash ??= hash(randomToken());
      await verify(await dummyHash, password);
      return false;
    },
  };
}

/** A pool of `threads` argon2id threads with the service's parameters (src/security/hash-threads.ts). */
export function createArgon2Pool(threads: number = availableParallelism()): ThreadHashRunner {
  return createThreadHashRunner(threads, ARGON2_OPTIONS);
}

/** A hasher on a pool of `threads` hashing threads of this process; close() ends them. */
export function createPasswordHasher(threads: number = availableParallelism()): PasswordHasher & { close(): Promise<void> } {
  const pool = createArgon2Pool(threads);
  return { ...passwordHasher(pool), close: () => pool.close() };
}

export type PasswordProblem = 'too_short' | 'too_long' | 'common' | 'contains_phone' | 'repetitive';

/** Returns what is wrong with a new password, or null. Code points are counted, not UTF-16 units. */
export function checkPasswordPolicy(password: string, context: { phoneDigits?: string } = {}): PasswordProblem | null {
  const length = [...password.normalize('NFKC')].length;
  if (length < PASSWORD_MIN_LENGTH) return 'too_short';
  if (length > PASSWORD_MAX_LENGTH) return 'too_long';
  const lower = password.toLowerCase();
  if (isCommonPassword(lower)) return 'common';
  if (/^(.)\1+$/u.test(password)) return 'repetitive';
  // The account's own phone number is the first thing an attacker tries.
  if (context.phoneDigits && context.phoneDigits.length >= 6 && password.includes(context.phoneDigits)) return 'contains_phone';
  return null;
}
