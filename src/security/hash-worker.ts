// Runs in a worker thread: argon2id computations, one after another, off the main thread. A queue of
// them keeps a core busy even while the main thread is blocked (for example in a SQLite commit).
import { hashSync, verifySync } from '@node-rs/argon2';

export interface HashTask {
  op: 'hash' | 'verify';
  password: string;
  /** The stored hash, for verify. */
  hash?: string;
  options: { algorithm: number; memoryCost: number; timeCost: number; parallelism: number };
}

export default function run(task: HashTask): string | boolean {
  if (task.op === 'hash') return hashSync(task.password, task.options);
  try {
    return verifySync(task.hash!, task.password);
  } catch {
    return false;
  }
}
