// Group commit: with synchronous=FULL every COMMIT waits for the disk, and SQLite lets one writer
// commit at a time across all processes, so a burst of small writes queues on fsync. Writes submitted
// while a commit is under way share the next transaction: each runs in its own SAVEPOINT (one
// write's failure, such as a unique violation, rolls back only that write), and every caller is
// answered only after the shared COMMIT is on disk.
import { sql } from 'kysely';
import type { Db } from './database.js';

interface Job {
  fn: (trx: Db) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class GroupCommitter {
  private queue: Job[] = [];
  private flushing = false;

  constructor(
    /** Runs one write transaction (BEGIN IMMEDIATE … COMMIT, with busy retries). */
    private readonly transaction: <T>(fn: (trx: Db) => Promise<T>) => Promise<T>,
    private readonly maxBatch = 128,
  ) {}

  submit<T>(fn: (trx: Db) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (this.flushing) return;
      this.flushing = true;
      // SQLite commits synchronously: flushed at once, a write would always commit alone while the
      // requests read in the same turn of the event loop wait behind it. Flushed after the turn's I/O
      // callbacks, it shares its commit (and its fsync) with theirs.
      setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        let outcomes: Outcome[];
        if (batch.length === 1) {
          // Alone in its transaction: no savepoint needed, its failure rolls back only itself.
          const job = batch[0]!;
          await this.transaction(job.fn).then(job.resolve, job.reject);
          continue;
        }
        try {
          outcomes = await this.transaction(async (trx) => {
            const results: Outcome[] = [];
            for (const job of batch) {
              await sql`savepoint group_write`.execute(trx);
              try {
                results.push({ ok: true, value: await job.fn(trx) });
                await sql`release group_write`.execute(trx);
              } catch (error) {
                await sql`rollback to group_write`.execute(trx);
                await sql`release group_write`.execute(trx);
                results.push({ ok: false, error });
              }
            }
            return results;
          });
        } catch (error) {
          // The shared transaction itself failed (e.g. the database stayed busy): nothing was written.
          for (const job of batch) job.reject(error);
          continue;
        }
        batch.forEach((job, i) => {
          const outcome = outcomes[i]!;
          if (outcome.ok) job.resolve(outcome.value);
          else job.reject(outcome.error);
        });
      }
    } finally {
      this.flushing = false;
    }
  }
}
