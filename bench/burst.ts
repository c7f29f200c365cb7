// npm run bench:burst -- --n 500 [--runs 3] [--workers N] [--mode embedded|scale-out|nginx|floor|all] [--sms]
// The workshop burst against `gatehouse serve` on the embedded default: first the hashing bound (the
// same n argon2id hashes on every core), then n simultaneous registrations, each with its own captcha,
// one invitation code, one client address. Reports makespan, its ratio to the bound, latency, status
// counts and the peak memory of all the server's processes; medians over the runs.
//
// --sms: the invitation code's organization requires an SMS code at registration (`gatehouse org set
// --require-sms yes`). Before the clock starts, each phone requests its registration code as the
// registration page does, the server's task worker delivers them with the console provider, and the
// benchmark reads them from the outbox; then the n registrations carry their codes, and every 201
// must be an account whose phone the code proved. The service's own SMS bounds stay at their
// defaults: the caps (SMS_CAP_*, 2,000 an hour per region), the invitation's budget (the first
// organization's code has no quota), one code per phone. Only per-address limits are raised, and only
// when a burst needs more from the one benchmark client than one address is allowed: that client
// stands for a whole room of people, each on their own phone.
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { request, runCli, startServer, type ServerProcess } from '../test/helpers/cluster.js';
import { startNginx } from '../test/helpers/nginx.js';
import { createTestDatabase } from '../test/helpers/postgres.js';
import { TEST_REDIS_URL, uniquePrefix } from '../test/helpers/redis.js';
import { startFloorServer } from './floor.js';
import { captchas, fireAll } from './load.js';
import { deliveredCodes, postgresDatabase, requestRegistrationCodes, sqliteDatabase, verifiedAccounts, type BenchDatabase } from './sms-codes.js';
import { scaleOutCounters } from './store-counters.js';
import { buildOnce, hashingBoundMs, machineCpuSeconds, NPM_START_DEFAULTS, offMainThreadCpuSeconds, sampleTreeMemory, treeCpuSeconds, treeMainThreadCpuSeconds } from './processes.js';
import { arg, machine, median, summarize } from './stats.js';

const n = arg('n', 500);
const runs = arg('runs', 3);
const workers = arg('workers', availableParallelism());
type Mode = 'embedded' | 'scale-out' | 'nginx' | 'floor';
const modeIndex = process.argv.indexOf('--mode');
const modeArg = modeIndex === -1 ? 'embedded' : process.argv[modeIndex + 1]!;
if (!['embedded', 'scale-out', 'nginx', 'floor', 'all'].includes(modeArg)) throw new Error('--mode is embedded, scale-out, nginx, floor or all');
// all: the three modes one after another in one run, so that they meet the same machine conditions.
const modes: Mode[] = modeArg === 'all' ? ['embedded', 'scale-out', 'nginx'] : [modeArg as Mode];
const sms = process.argv.includes('--sms');
if (sms && modes.includes('floor')) throw new Error('--sms needs a Gatehouse server: the floor server has no SMS codes');

// The default limits admit 1,500 captchas a minute, 1,000 registrations per 10 minutes and 1,000 SMS
// sends an hour from one address; a larger burst from one benchmark client needs more. With --sms
// each person fetches two captchas: one for the SMS code, one for the registration.
const captchasPerRun = sms ? 2 * n : n;
const env: Record<string, string> = {
  ...(process.env.BENCH_SERVER_ENV ? JSON.parse(process.env.BENCH_SERVER_ENV) : {}),
  ...(n > 900 || captchasPerRun > 1400 ? { RATE_LIMIT_CAPTCHA_PER_IP: `${captchasPerRun * 2}/60` } : {}),
  ...(n > 900 ? { RATE_LIMIT_REGISTER_PER_IP: `${n * 2}/600` } : {}),
  ...(sms && n > 900 ? { RATE_LIMIT_SMS_PER_IP: `${n * 2}/3600` } : {}),
};
if (sms && Number({ ...NPM_START_DEFAULTS, ...env }.TASK_WORKERS) < 1) throw new Error('--sms needs a task worker to deliver the codes: TASK_WORKERS ≥ 1');

interface RunResult {
  boundMs: number;
  makespanMs: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  peakMemMiB: number;
  cpu: { server: number[]; mainThreads: number[]; client: number };
  /** --sms: seconds to send the n codes, then until the last was in the outbox (before the clock). */
  smsSeconds: { send: number; delivery: number } | undefined;
  /** The whole machine during the burst: CPU seconds busy, idle, stolen. */
  machine: { busy: number; idle: number; steal: number };
  roundTrips: { redis: number; postgres: number } | undefined;
  /** The machine's CPU during the burst: the servers' hashing threads, everything else, and what everything else may take for the goal. */
  budget: { hashing: number; other: number; otherAtGoal: number };
}

const GOAL_RATIO = 1.25;

interface Target {
  port: number;
  invitationCode: string;
  pids: number[];
  /** The first organization, which the invitation code belongs to. */
  organizationId: number;
  /** What `gatehouse` commands need to reach the target's data. */
  cliEnv: Record<string, string>;
  /** Read-only access to the target's database. */
  openDatabase(): Promise<BenchDatabase>;
  /** Round trips to the scale-out stores so far: Redis commands, PostgreSQL transactions. */
  storeCounters(): Promise<{ redis: number; postgres: number } | null>;
  stop(): Promise<void>;
}

async function startTarget(mode: Mode): Promise<Target> {
  const options = { workers, defaultLimits: true, env: { ...NPM_START_DEFAULTS, ...env }, nodeArgs: process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) };
  if (mode === 'floor') return startFloor();
  if (mode === 'embedded') {
    const server = await startServer(options);
    return {
      port: server.port,
      invitationCode: server.invitationCode,
      pids: [server.child.pid!],
      organizationId: firstOrganizationId(server),
      cliEnv: { DATA_DIR: server.dataDir },
      openDatabase: async () => sqliteDatabase(server.dataDir),
      storeCounters: async () => null,
      stop: () => server.stop().then(() => undefined),
    };
  }
  const database = await createTestDatabase('bench');
  const scaleOut = { ...NPM_START_DEFAULTS, ...env, DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: uniquePrefix('bench'), SECRET_KEY: 'b'.repeat(40), TRUST_PROXY: '127.0.0.1' };
  const servers = [await startServer({ ...options, env: scaleOut })];
  if (mode === 'nginx') servers.push(await startServer({ ...options, env: scaleOut }));
  const nginx = mode === 'nginx' ? await startNginx(servers.map((s) => s.port)) : undefined;
  return {
    port: nginx?.port ?? servers[0]!.port,
    invitationCode: servers[0]!.invitationCode,
    pids: servers.map((s) => s.child.pid!),
    organizationId: firstOrganizationId(servers[0]!),
    cliEnv: scaleOut,
    openDatabase: () => postgresDatabase(database.url),
    storeCounters: () => scaleOutCounters(database.url),
    async stop() {
      await nginx?.stop();
      await Promise.all(servers.map((s) => s.stop()));
      await database.drop();
    },
  };
}

function firstOrganizationId(server: ServerProcess): number {
  const id = /First organization .* \(id (\d+)\)/.exec(server.output())?.[1];
  if (!id) throw new Error(`the server did not report its first organization:\n${server.output()}`);
  return Number(id);
}

/** HTTP and the hashing pool only (bench/floor-server.ts): what is left of the budget for the work. */
async function startFloor(): Promise<Target> {
  const floor = await startFloorServer(workers, env);
  return {
    port: floor.port,
    invitationCode: 'FLOOR',
    pids: [floor.pid],
    organizationId: 0,
    cliEnv: {},
    openDatabase: () => Promise.reject(new Error('the floor server has no database')),
    storeCounters: async () => null,
    stop: () => floor.stop(),
  };
}

/** Seconds since `started` (performance.now()). */
const secondsSince = (started: number) => +((performance.now() - started) / 1000).toFixed(2);

/** --sms: registration requires an SMS code; every phone requests one and the codes are read from the outbox. */
async function smsCodesFor(server: Target, phones: string[]): Promise<{ codes: Map<string, string>; seconds: { send: number; delivery: number } }> {
  const set = await runCli(['org', 'set', '--id', String(server.organizationId), '--require-sms', 'yes'], server.cliEnv);
  if (set.code !== 0) throw new Error(`gatehouse org set --require-sms yes failed: ${set.stderr}`);
  const started = performance.now();
  await requestRegistrationCodes(server.port, phones, server.invitationCode);
  const send = secondsSince(started);
  const db = await server.openDatabase();
  try {
    // A code lives SMS_CODE_TTL_SECONDS (300 by default) from its send: one delivered later is of no use.
    const codes = await deliveredCodes(db, phones, 300_000);
    return { codes, seconds: { send, delivery: +(secondsSince(started) - send).toFixed(2) } };
  } finally {
    await db.close();
  }
}

async function oneRun(mode: Mode, run: number): Promise<RunResult> {
  const boundMs = hashingBoundMs(n);
  const server = await startTarget(mode);
  try {
    const phones = Array.from({ length: n }, (_, i) => `15${String(run).padStart(2, '0')}${String(i).padStart(7, '0')}`);
    const verification = sms ? await smsCodesFor(server, phones) : undefined;
    const captcha = () => request(server.port, 'GET', '/api/auth/captcha/generate?purpose=register');
    const ids = await captchas(captcha, n);
    const memory = sampleTreeMemory(server.pids);
    const hashingBefore = server.pids.reduce((sum, pid) => sum + offMainThreadCpuSeconds(pid), 0);
    const cpuBefore = server.pids.flatMap(treeCpuSeconds);
    const mainBefore = server.pids.flatMap(treeMainThreadCpuSeconds);
    const countersBefore = await server.storeCounters();
    const clientCpuBefore = process.cpuUsage();
    const machineBefore = machineCpuSeconds();
    const load = await fireAll(
      server.port,
      ids.map((captchaId, i) => ({
        method: 'POST',
        path: '/api/auth/register',
        body: {
          phone: phones[i],
          password: 'workshop passphrase 2026',
          name: `Teacher ${i}`,
          invitation_code: server.invitationCode,
          captcha_id: captchaId,
          captcha: 'TEST',
          ...(verification ? { sms_code: verification.codes.get(phones[i]!) } : {}),
        },
      })),
      201,
    );
    const { makespanMs, latencies, statuses } = load;
    const machineAfter = machineCpuSeconds();
    const hashing = server.pids.reduce((sum, pid) => sum + offMainThreadCpuSeconds(pid), 0) - hashingBefore;
    const cpuAfter = server.pids.flatMap(treeCpuSeconds);
    const mainAfter = server.pids.flatMap(treeMainThreadCpuSeconds);
    const countersAfter = await server.storeCounters();
    const roundTrips =
      countersBefore && countersAfter
        ? { redis: (countersAfter.redis - countersBefore.redis) / n, postgres: (countersAfter.postgres - countersBefore.postgres) / n }
        : undefined;
    const clientCpu = process.cpuUsage(clientCpuBefore);
    const cpuSeconds = {
      server: cpuAfter.map((c, i) => +(c - (cpuBefore[i] ?? 0)).toFixed(2)),
      mainThreads: mainAfter.map((c, i) => +(c - (mainBefore[i] ?? 0)).toFixed(2)),
      client: +((clientCpu.user + clientCpu.system) / 1e6).toFixed(2) };
    const peak = memory.stop();
    if (sms) await checkVerified(server, statuses['201'] ?? 0);
    const lat = summarize(latencies);
    const machineCpu = {
      busy: +(machineAfter.busy - machineBefore.busy).toFixed(2),
      idle: +(machineAfter.idle - machineBefore.idle).toFixed(2),
      steal: +(machineAfter.steal - machineBefore.steal).toFixed(2),
    };
    // At the goal the burst lasts GOAL_RATIO × the bound (for the accounts created), on every core.
    const goalMakespanS = (GOAL_RATIO * boundMs * ((statuses['201'] ?? 0) / n)) / 1000;
    const budget = {
      hashing: +hashing.toFixed(2),
      other: +(machineCpu.busy - hashing).toFixed(2),
      otherAtGoal: +(goalMakespanS * availableParallelism() - hashing).toFixed(2),
    };
    return { boundMs, makespanMs, p50: lat.p50, p99: lat.p99, statuses, peakMemMiB: peak / 2 ** 20, cpu: cpuSeconds, smsSeconds: verification?.seconds, machine: machineCpu, roundTrips, budget };
  } finally {
    await server.stop();
  }
}

/** Every account the burst created had its phone proved by its SMS code: the check ran, it was not skipped. */
async function checkVerified(server: Target, created: number): Promise<void> {
  const db = await server.openDatabase();
  try {
    const verified = await verifiedAccounts(db);
    if (verified !== created) throw new Error(`${created} registrations answered 201 but ${verified} accounts have a phone proved by SMS`);
  } finally {
    await db.close();
  }
}

async function benchMode(mode: Mode): Promise<void> {
  const results: RunResult[] = [];
  for (let run = 0; run < runs; run++) {
    const result = await oneRun(mode, run);
    results.push(result);
    console.log(
      `run ${run + 1}: bound for ${n} hashes ${(result.boundMs / 1000).toFixed(2)} s, makespan ${(result.makespanMs / 1000).toFixed(2)} s, ` +
        `p50 ${result.p50.toFixed(0)} ms, p99 ${result.p99.toFixed(0)} ms, statuses ${JSON.stringify(result.statuses)}, peak memory ${result.peakMemMiB.toFixed(0)} MiB, CPU s: server ${JSON.stringify(result.cpu.server)} (main threads ${JSON.stringify(result.cpu.mainThreads)}) client ${result.cpu.client}; machine CPU s ${JSON.stringify(result.machine)}` +
        `; CPU budget s: hashing threads ${result.budget.hashing}, everything else ${result.budget.other} (at ${GOAL_RATIO} × bound it must fit in ${result.budget.otherAtGoal})` +
        (result.smsSeconds ? `; SMS codes before the clock: sent in ${result.smsSeconds.send} s, all in the outbox ${result.smsSeconds.delivery} s later` : '') +
        (result.roundTrips ? `, per registration: ${result.roundTrips.redis.toFixed(1)} Redis commands, ${result.roundTrips.postgres.toFixed(1)} PostgreSQL transactions` : ''),
    );
  }
  // When some requests were refused with 503 OVERLOADED, only the created accounts were hashed: the
  // bound that applies is the one for that many hashes (the bound scales linearly with the count).
  const created = (r: RunResult) => r.statuses['201'] ?? 0;
  const effectiveBound = (r: RunResult) => (r.boundMs * created(r)) / n;
  const ratio = median(results.map((r) => r.makespanMs / effectiveBound(r)));
  console.log(
    [
      `# bench:burst — ${new Date().toISOString().slice(0, 10)}`,
      `machine: ${machine()}`,
      `burst: ${n} simultaneous registrations, mode ${mode}${mode === 'nginx' ? ' (2 servers behind nginx)' : ''}, ${workers} workers per server, one invitation code, one client address${Object.keys(env).length ? `, ${JSON.stringify(env)}` : ''}`,
      `sms verification: ${sms ? `on (codes sent before the clock in a median ${median(results.map((r) => r.smsSeconds!.send)).toFixed(2)} s, delivered ${median(results.map((r) => r.smsSeconds!.delivery)).toFixed(2)} s later)` : 'off'}`,
      `median of ${runs}: hashing bound for the ${median(results.map(created))} accounts created ${(median(results.map(effectiveBound)) / 1000).toFixed(2)} s, makespan ${(median(results.map((r) => r.makespanMs)) / 1000).toFixed(2)} s, ratio ${ratio.toFixed(2)} (goal ≤ ${GOAL_RATIO}: ${ratio <= GOAL_RATIO ? 'met' : 'NOT met'})`,
      `throughput: ${(median(results.map(created)) / (median(results.map((r) => r.makespanMs)) / 1000)).toFixed(0)} registrations/s; statuses ${JSON.stringify(results.map((r) => r.statuses))}`,
      `latency: p50 ${median(results.map((r) => r.p50)).toFixed(0)} ms, p99 ${median(results.map((r) => r.p99)).toFixed(0)} ms`,
      `peak memory of all server processes: ${median(results.map((r) => r.peakMemMiB)).toFixed(0)} MiB`,
      `machine CPU during the burst: hashing threads ${median(results.map((r) => r.budget.hashing)).toFixed(2)} s, everything else ${median(results.map((r) => r.budget.other)).toFixed(2)} s; at ${GOAL_RATIO} × bound everything else must fit in ${median(results.map((r) => r.budget.otherAtGoal)).toFixed(2)} s`,
    ].join('\n'),
  );
}

buildOnce();
for (const mode of modes) await benchMode(mode);
