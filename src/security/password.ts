// Password hashing (argon2id, OWASP parameters, a bounded number of computations at once) and the
// password policy (NIST SP 800-63B spirit).
import { availableParallelism } from 'node:os';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { COMMON_PASSWORDS } from './common-passwords.js';
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

/** Where argon2 computations run: this process's threads, or the machine's pool (cluster primary). */
export interface HashRunner {
  run(task: HashTask): Promise<string | boolean>;
}

/** One argon2id computation on libuv's thread pool. */
function computeArgon2(task: HashTask): Promise<string | boolean> {
  if (task.op === 'hash') return argon2Hash(task.password, ARGON2_OPTIONS);
  // A malformed stored hash is a mismatch, not an error.
  return argon2Verify(task.hash!, task.password, ARGON2_OPTIONS).catch(() => false);
}

/**
 * Runs at most `threads` argon2 computations at a time on libuv's thread pool (@node-rs/argon2's
 * async functions), the rest in FIFO order. The cap is what matters: argon2id is memory-hard, and
 * more computations than cores at once thrash the caches and finish later than the same work in turn.
 * It also leaves libuv's other threads free for file system and DNS work.
 */
export function createHashRunner(threads: number = availableParallelism(), compute: (task: HashTask) => Promise<string | boolean> = computeArgon2): HashRunner {
  const waiting: Array<() => void> = [];
  let running = 0;
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };
  const slot = (): Promise<void> => {
    if (running < threads) {
      running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => waiting.push(resolve));
  };
  return {
    async run(task) {
      await slot();
      try {
        return await compute(task);
      } finally {
        release();
      }
    },
  };
}

/**
 * Hands every computation to libuv at once: for a process whose libuv pool is HASH_THREADS threads
 * used for nothing else (the cluster primary, see src/server/threadpool.ts), the pool's size is the
 * cap and its FIFO queue the waiting line, and a thread goes from one hash to the next without waiting
 * for the event loop.
 */
export const libuvPoolHashRunner: HashRunner = { run: (task) => computeArgon2(task) };

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

/** A hasher on at most `threads` threads of this process. */
export function createPasswordHasher(threads: number = availableParallelism()): PasswordHasher {
  return passwordHasher(createHashRunner(threads));
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
