// npm run bench:login -- [--users 100] [--logins 500] [--runs 3] [--workers N]
// Password logins on all cores: `logins` simultaneous phone + password + captcha logins (spread over
// `users` accounts) against `gatehouse serve` on the embedded default, beside the verification bound
// (the same number of argon2id verifications on every core). Medians over the runs.
import { availableParallelism } from 'node:os';
import { mapConcurrent, registerThrough, request, startServer } from '../test/helpers/cluster.js';
import { captchas, fireAll } from './load.js';
import { buildOnce, hashingBoundMs, NPM_START_DEFAULTS } from './processes.js';
import { arg, machine, median, summarize } from './stats.js';

const users = arg('users', 100);
const logins = arg('logins', 500);
const runs = arg('runs', 3);
const workers = arg('workers', availableParallelism());
const PASSWORD = 'workshop passphrase 2026';

async function oneRun() {
  const boundMs = hashingBoundMs(logins, 'verify');
  const server = await startServer({ workers, defaultLimits: true, env: NPM_START_DEFAULTS });
  try {
    const phones = Array.from({ length: users }, (_, i) => `1590${String(i).padStart(7, '0')}`);
    await mapConcurrent(phones, 32, async (phone) => {
      const res = await registerThrough(server.port, server.invitationCode, phone, PASSWORD);
      if (res.status !== 201) throw new Error(`registration failed: ${JSON.stringify(res.body)}`);
    });
    const ids = await captchas(() => request(server.port, 'GET', '/api/auth/captcha/generate?purpose=login'), logins);
    const load = await fireAll(
      server.port,
      ids.map((captchaId, i) => ({ method: 'POST', path: '/api/auth/login', body: { phone: phones[i % users], password: PASSWORD, captcha_id: captchaId, captcha: 'TEST' } })),
      200,
    );
    return { boundMs, ...load, ...summarize(load.latencies) };
  } finally {
    await server.stop();
  }
}

buildOnce();
const results = [];
for (let run = 0; run < runs; run++) {
  const r = await oneRun();
  results.push(r);
  console.log(
    `run ${run + 1}: verify bound ${(r.boundMs / 1000).toFixed(2)} s, makespan ${(r.makespanMs / 1000).toFixed(2)} s, ratio ${(r.makespanMs / r.boundMs).toFixed(2)}, ` +
      `${(logins / (r.makespanMs / 1000)).toFixed(0)} logins/s, p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms, statuses ${JSON.stringify(r.statuses)}`,
  );
}
const makespan = median(results.map((r) => r.makespanMs));
console.log(
  [
    `# bench:login — ${new Date().toISOString().slice(0, 10)}`,
    `machine: ${machine()}`,
    `${logins} simultaneous password logins over ${users} accounts, ${workers} workers, embedded SQLite`,
    `median of ${runs}: verify bound ${(median(results.map((r) => r.boundMs)) / 1000).toFixed(2)} s, makespan ${(makespan / 1000).toFixed(2)} s, ratio ${median(results.map((r) => r.makespanMs / r.boundMs)).toFixed(2)}`,
    `throughput: ${(logins / (makespan / 1000)).toFixed(0)} logins/s; latency p50 ${median(results.map((r) => r.p50)).toFixed(0)} ms, p99 ${median(results.map((r) => r.p99)).toFixed(0)} ms`,
  ].join('\n'),
);
