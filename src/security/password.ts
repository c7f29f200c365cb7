// Password hashing (argon2id, OWASP parameters, a bounded number of computations at once) and the
// password policy (NIST SP 800-63B spirit).
import { availableParallelism } from 'node:os';
import { isCommonPassword } from './common-passwords.js';
import { createThreadHashRunner, type ThreadHashRunner } from './hash-threads.js';
import { randomToken } from './tokens.js';

/** argon2id's cost: memory in KiB and passes (parallelism is always 1: the pool parallelizes). */
export interface Argon2Params {
  readonly memoryKib: number;
  readonly timeCost: number;
}

// OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
export const DEFAULT_ARGON2_PARAMS: Argon2Params = { memoryKib: 19_456, timeCost: 2 };

/** @node-rs/argon2's options. algorithm 2 is Algorithm.Argon2id (a const enum, which isolated modules cannot import). */
export function argon2Options(params: Argon2Params) {
  return { algorithm: 2, memoryCost: params.memoryKib, timeCost: params.timeCost, parallelism: 1 } as const;
}

/**
 * Whether a stored hash was made otherwise than `params` say (older parameters, another algorithm):
 * it is re-made at the account's next successful password login, when the password is at hand.
 */
export function hashNeedsUpgrade(storedHash: string, params: Argon2Params): boolean {
  const phc = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(storedHash);
  return !phc || Number(phc[1]) !== params.memoryKib || Number(phc[2]) !== params.timeCost || Number(phc[3]) !== 1;
}

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
  /** See hashNeedsUpgrade. */
  needsUpgrade(storedHash: string): boolean;
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

/**
 * The password hasher on a runner: argon2id, NFKC-normalized input. `params` must be those the runner
 * hashes with (the same configuration on every process).
 */
export function passwordHasher(runner: HashRunner, params: Argon2Params = DEFAULT_ARGON2_PARAMS): PasswordHasher {
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
    needsUpgrade: (storedHash) => hashNeedsUpgrade(storedHash, params),
  };
}

/** A pool of `threads` argon2id threads hashing with `params` (src/security/hash-threads.ts). */
export function createArgon2Pool(threads: number = availableParallelism(), params: Argon2Params = DEFAULT_ARGON2_PARAMS): ThreadHashRunner {
  return createThreadHashRunner(threads, argon2Options(params));
}

/** A hasher on a pool of `threads` hashing threads of this process; close() ends them. */
export function createPasswordHasher(threads: number = availableParallelism(), params: Argon2Params = DEFAULT_ARGON2_PARAMS): PasswordHasher & { close(): Promise<void> } {
  const pool = createArgon2Pool(threads, params);
  return { ...passwordHasher(pool, params), close: () => pool.close() };
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
