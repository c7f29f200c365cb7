// Password hashing (argon2id, OWASP parameters) on a pool of worker threads, and the password policy
// (NIST SP 800-63B spirit).
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { COMMON_PASSWORDS } from './common-passwords.js';
import type { HashTask } from './hash-worker.js';
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
  close(): Promise<void>;
}

// The thread's module has this module's own extension: .ts when run from the sources (tests, through
// tsx), .js in the compiled build.
const WORKER_FILE = new URL(`./hash-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/** A pool of `threads` hashing threads (by default one per core). */
export function createPasswordHasher(threads: number = availableParallelism()): PasswordHasher {
  const pool = new Piscina<HashTask, string | boolean>({
    filename: WORKER_FILE.href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Infinity,
    // A second task waits in each thread's own queue, so a thread starts its next hash at once even
    // while the main thread is blocked (in a SQLite commit, say) and cannot hand it one.
    concurrentTasksPerWorker: 2,
  });
  let dummyHash: Promise<string> | undefined;
  const hash = async (password: string) => (await pool.run({ op: 'hash', password: password.normalize('NFKC'), options: ARGON2_OPTIONS })) as string;
  const verify = async (storedHash: string, password: string) =>
    (await pool.run({ op: 'verify', hash: storedHash, password: password.normalize('NFKC'), options: ARGON2_OPTIONS })) as boolean;
  return {
    hash,
    verify,
    async verifyAgainstDummy(password) {
      dummyHash ??= hash(randomToken());
      await verify(await dummyHash, password);
      return false;
    },
    close: () => pool.close(),
  };
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
