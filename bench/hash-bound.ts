// The hashing bound: how long this machine takes to compute `n` argon2id hashes with the service's
// parameters, all cores busy. Run as its own process with UV_THREADPOOL_SIZE ≥ the core count.
import { performance } from 'node:perf_hooks';
import { hash, verify } from '@node-rs/argon2';
import { ARGON2_OPTIONS } from '../src/security/password.js';

const hashPassword = (password: string) => hash(password, ARGON2_OPTIONS);
const verifyPassword = (stored: string, password: string) => verify(stored, password, ARGON2_OPTIONS);

const n = Number(process.argv[2] ?? 500);
const op = process.argv[3] === 'verify' ? 'verify' : 'hash';
const sample = await hashPassword('a sample password for verify');
const started = performance.now();
await Promise.all(
  Array.from({ length: n }, (_, i) => (op === 'hash' ? hashPassword(`password number ${i}`) : verifyPassword(sample, `password number ${i}`))),
);
process.stdout.write(JSON.stringify({ n, op, ms: performance.now() - started }) + '\n');
