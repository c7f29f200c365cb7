// What every command of the command line is made of, and the helpers they share: flags, output,
// and the stores and services a command opens for as long as it runs.
import type { ParseArgsConfig } from 'node:util';
import { loadConfig, type Config } from '../config.js';
import type { PasswordHasher } from '../security/password.js';
import type { Runtime } from '../server/runtime.js';
import type { Services } from '../services.js';

// Each command imports what it uses when it runs: a task worker or the cluster primary never loads
// the HTTP stack, and `gatehouse --help` starts at once.

/** What parseArgs read for a flag: its value, true for a boolean flag, every value of a repeatable one. */
export type FlagValue = string | boolean | string[] | undefined;

export interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** The positional arguments it takes, by name and in order (e.g. CLIENT_ID); none unless named. */
  positionals?: readonly string[];
  run(values: Record<string, FlagValue>, positionals: string[]): Promise<void>;
}

/** A mistake in the command line itself: the command's usage follows the message, exit code 2. */
export class UsageError extends Error {}

/** For commands that never hash a password. */
const NO_HASHING: PasswordHasher = {
  hash: () => Promise.reject(new Error('this command does not hash passwords')),
  verify: () => Promise.reject(new Error('this command does not hash passwords')),
  verifyAgainstDummy: () => Promise.reject(new Error('this command does not hash passwords')),
  needsUpgrade: () => false,
};

export const json = { type: 'boolean', default: false } as const;

export function print(value: unknown, asJson: boolean, text: () => string): void {
  process.stdout.write(asJson ? JSON.stringify(value) + '\n' : text() + '\n');
}

const isPositiveWhole = (value: FlagValue): boolean => typeof value === 'string' && /^\d+$/.test(value) && Number(value) >= 1;

export function positiveInt(value: FlagValue, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!isPositiveWhole(value)) throw new UsageError(`${flag} takes a whole number of at least 1`);
  return Number(value);
}

/** A whole number of at least 1, or null for `none` (the word the flag takes for "no limit"). */
export function positiveIntOrNone(value: FlagValue, flag: string, none: string): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === none) return null;
  if (!isPositiveWhole(value)) throw new UsageError(`${flag} takes a whole number of at least 1, or ${none}`);
  return Number(value);
}

export async function withRuntime<T>(config: Config, fn: (runtime: Runtime) => Promise<T>): Promise<T> {
  const [{ openRuntime }, { migrateToLatest }] = await Promise.all([import('../server/runtime.js'), import('../db/migrate.js')]);
  const runtime = await openRuntime(config);
  try {
    await runtime.database.retrying(() => migrateToLatest(runtime.database.db));
    return await fn(runtime);
  } finally {
    await runtime.close();
  }
}

/** Runs fn with the services of a migrated database, for commands that hash no password. */
export async function withServices<T>(fn: (services: Services, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const { createServices } = await import('../services.js');
  return withRuntime(config, (runtime) => fn(createServices({ config, ...runtime, hasher: NO_HASHING }), config));
}
