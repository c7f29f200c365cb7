// npm run bench:login -- [--users 100] [--logins 500] [--runs 3] [--workers N] [--mode embedded|floor|all]
// Password logins on all cores: `logins` simultaneous phone + password + captcha logins (spread over
// `users` accounts) against `gatehouse serve` on the embedded default, beside the verification bound
// (the same number of argon2id verifications on every core). Medians over the runs. `--mode floor`
// sends the same logins to bench/floor-server.ts (HTTP, JSON and the verification on the same pool,
// nothing else); `--mode all` runs both, one after the other, and prints Gatehouse's ratio to it.
import { availableParallelism } from 'node:os';
import { mapConcurrent, registerThrough, request, startServer } from '../test/helpers/cluster.js';
import { startFloorServer } from './floor.js';
import { captchas, fireAll } from './load.js';
import { buildOnce, hashingBoundMs, NPM_START_DEFAULTS } from './processes.js';
import { arg, machine, median, summarize } from './stats.js';

const users = arg('users', 100);
const logins = arg('logins', 500);
const runs = arg('runs', 3);
const workers = arg('workers', availableParallelism());
const PASSWORD = 'workshop passphrase 2026';

type Mode = 'embedded' | 'floor';
const modeArg = process.argv.includes('--mode') ? process.argv[process.argv.indexOf('--mode') + 1]! : 'embedded';
if (!['embedded', 'floor', 'all'].includes(modeArg)) throw new Error('--mode is embedded, floor or all');
const modes: Mode[] = modeArg === 'all' ? ['embedded', 'floor'] : [modeArg as Mode];

async function startTarget(mode: Mode): Promise<{ port: number; invitationCode: string; stop(): Promise<unknown> }> {
  if (mode === 'floor') {
    const floor = await startFloorServer(workers, { FLOOR_LOGIN_PASSWORD: PASSWORD });
    return { port: floor.port, invitationCode: 'FLOOR', stop: () => floor.stop() };
  }
  return startServer({ workers, defaultLimits: true, env: NPM_START_DEFAULTS });
}

async function oneRun(mode: Mode) {
  const boundMs = hashingBoundMs(logins, 'verify');
  const server = await startTarget(mode);
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
const makespans: Partial<Record<Mode, number>> = {};
for (const mode of modes) {
  const results = [];
  for (let run = 0; run < runs; run++) {
    const r = await oneRun(mode);
    results.push(r);
    console.log(
      `${mode} run ${run + 1}: verify bound ${(r.boundMs / 1000).toFixed(2)} s, makespan ${(r.makespanMs / 1000).toFixed(2)} s, ratio ${(r.makespanMs / r.boundMs).toFixed(2)}, ` +
        `${(logins / (r.makespanMs / 1000)).toFixed(0)} logins/s, p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms, statuses ${JSON.stringify(r.statuses)}`,
    );
  }
  const makespan = median(results.map((r) => r.makespanMs));
  makespans[mode] = makespan;
  console.log(
    [
      `# bench:login — ${new Date().toISOString().slice(0, 10)}`,
      `machine: ${machine()}`,
      `${logins} simultaneous password logins over ${users} accounts, ${workers} workers, ${mode === 'floor' ? 'floor server (HTTP and verification only)' : 'embedded SQLite'}`,
      `median of ${runs}: verify bound ${(median(results.map((r) => r.boundMs)) / 1000).toFixed(2)} s, makespan ${(makespan / 1000).toFixed(2)} s, ratio ${median(results.map((r) => r.makespanMs / r.boundMs)).toFixed(2)}`,
      `throughput: ${(logins / (makespan / 1000)).toFixed(0)} logins/s; latency p50 ${median(results.map((r) => r.p50)).toFixed(0)} ms, p99 ${median(results.map((r) => r.p99)).toFixed(0)} ms`,
    ].join('\n'),
  );
}
if (makespans.embedded && makespans.floor) console.log(`Gatehouse against the login floor, same run: makespan ${(makespans.embedded / makespans.floor).toFixed(2)} × the floor (goal ≤ 1.10)`);
