// The hashing bound: how long this machine takes to compute `n` argon2id hashes with the service's
// parameters, all cores busy. Run as its own process with UV_THREADPOOL_SIZE ≥ the core count.
import { performance } from 'node:perf_hooks';
import { hash, verify } from '@node-rs/argon2';
import { loadConfig } from '../src/config.js';
import { argon2Options } from '../src/security/password.js';

// The parameters the server under test reads from the same environment (PASSWORD_HASH_*).
const options = argon2Options(loadConfig().passwordHash);
const hashPassword = (password: string) => hash(password, options);
const verifyPassword = (stored: string, password: string) => verify(stored, password, options);

const n = Number(process.argv[2] ?? 500);
const op = process.argv[3] === 'verify' ? 'verify' : 'hash';
const sample = await hashPassword('a sample password for verify');
const started = performance.now();
await Promise.all(
  Array.from({ length: n }, (_, i) => (op === 'hash' ? hashPassword(`password number ${i}`) : verifyPassword(sample, `password number ${i}`))),
);
process.stdout.write(JSON.stringify({ n, op, ms: performance.now() - started }) + '\n');
