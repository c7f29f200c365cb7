// `npm test`: everything the suite needs, then the suite, then one summary.
//
// 1. As root on Debian or Ubuntu, installs the system packages the tests use (nginx, Chromium,
//    PostgreSQL, Redis, promtool, docker-compose) that are missing. Elsewhere it installs nothing and
//    says what is missing; the tests that need it are skipped by name, each with its install line.
// 2. Uses the PostgreSQL and Redis servers that answer at the tests' addresses (GATEHOUSE_TEST_POSTGRES_URL,
//    GATEHOUSE_TEST_REDIS_URL, or 127.0.0.1's standard ports), or starts servers of its own for the
//    run when none answers and the programs are installed; stops them at the end.
// 3. Typecheck, build, the in-process tests (two files at a time), the cross-process tests (one at a
//    time, since each starts process trees of its own), and a summary of every test skipped and why.
//    `npm test -- test/FILE.test.ts …` runs only those files, with the same preparation.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './helpers/cluster.js';
import { startOwnPostgres, type OwnPostgres } from './helpers/own-postgres.js';
import { startOwnRedis } from './helpers/redis.js';
import { installLine, NEEDS, onPath, type Need } from './helpers/requirements.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (line: string): void => void process.stdout.write(`[npm test] ${line}\n`);

interface Outcome {
  file: string;
  name: string;
  suite: boolean;
  outcome: 'passed' | 'failed' | 'skipped' | 'cancelled' | 'todo';
  reason?: string;
}

async function missingNeeds(): Promise<Need[]> {
  const missing: Need[] = [];
  for (const need of Object.keys(NEEDS) as Need[]) if (!(await NEEDS[need].present())) missing.push(need);
  return missing;
}

/** Packages for what is missing; a server that does not answer needs its package only if its programs are missing too (the run starts its own). */
function packagesFor(missing: Need[]): string[] {
  const wanted = missing.filter((need) => (need === 'postgres' ? missing.includes('postgres-binaries') : need === 'redis' ? missing.includes('redis-binaries') : true));
  return [...new Set(wanted.flatMap((need) => NEEDS[need].packages))];
}

function installPackages(packages: string[]): void {
  if (packages.length === 0) return;
  if (process.env.GATEHOUSE_TEST_NO_INSTALL === '1') return say(`not installing (GATEHOUSE_TEST_NO_INSTALL=1): ${packages.join(' ')}`);
  if (process.getuid?.() !== 0 || !onPath('apt-get')) {
    return say(`missing system packages (not root, or no apt-get: nothing installed): ${packages.join(' ')} — the tests that need them are skipped, each saying how to install what it needs`);
  }
  say(`installing: ${packages.join(' ')}`);
  // needrestart (Ubuntu, some Debian images) would ask which services to restart: not here.
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', NEEDRESTART_SUSPEND: '1' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', ...packages]]) {
    const result = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (result.status !== 0) return say(`apt-get ${args[0]} failed (exit ${result.status}); the tests that need ${packages.join(', ')} are skipped`);
  }
}

interface Services {
  env: Record<string, string>;
  stop(): void;
}

async function startServices(): Promise<Services> {
  const env: Record<string, string> = {};
  const stops: Array<() => void> = [];
  if (!(await NEEDS.postgres.present()) && (await NEEDS['postgres-binaries'].present())) {
    const postgres: OwnPostgres = await startOwnPostgres();
    env.GATEHOUSE_TEST_POSTGRES_URL = postgres.url;
    stops.push(() => postgres.destroy());
    say(`no PostgreSQL answered; started one for this run at ${postgres.url}`);
  }
  if (!(await NEEDS.redis.present()) && (await NEEDS['redis-binaries'].present())) {
    const port = await freePort();
    const redis: ChildProcess = await startOwnRedis(port);
    env.GATEHOUSE_TEST_REDIS_URL = `redis://127.0.0.1:${port}/15`;
    stops.push(() => redis.kill('SIGKILL'));
    say(`no Redis answered; started one for this run at ${env.GATEHOUSE_TEST_REDIS_URL}`);
  }
  return {
    env,
    stop: () => {
      for (const stop of stops) stop();
    },
  };
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

function testFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.test.ts'))
    .sort()
    .map((name) => path.join(dir, name));
}

function readOutcomes(file: string): Outcome[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Outcome);
  } catch {
    return [];
  }
}

function summarize(outcomes: Outcome[], stepsFailed: string[]): number {
  const count = (kind: Outcome['outcome']) => outcomes.filter((o) => o.outcome === kind).length;
  const skipped = outcomes.filter((o) => o.outcome === 'skipped');
  const lines = ['', '──── summary ────'];
  if (skipped.length > 0) {
    lines.push(`Skipped (${skipped.length}):`);
    for (const o of skipped) lines.push(`  - ${path.relative(ROOT, o.file ?? '?')}: ${o.suite ? 'suite ' : ''}"${o.name}" — ${o.reason}`);
  }
  for (const o of outcomes.filter((x) => x.outcome === 'failed' || x.outcome === 'cancelled')) lines.push(`  ${o.outcome.toUpperCase()}: ${path.relative(ROOT, o.file ?? '?')}: "${o.name}"`);
  for (const step of stepsFailed) lines.push(`  FAILED STEP: ${step}`);
  lines.push(`${count('cancelled')} cancelled, ${count('todo')} todo`);
  lines.push(`tests: ${count('passed')} passed, ${count('failed') + count('cancelled')} failed, ${skipped.length} skipped`);
  process.stdout.write(lines.join('\n') + '\n');
  return count('failed') + count('cancelled') + stepsFailed.length === 0 && count('passed') > 0 ? 0 : 1;
}

async function main(): Promise<number> {
  const missing = await missingNeeds();
  installPackages(packagesFor(missing));
  const services = await startServices();
  const stopServices = () => services.stop();
  process.once('SIGINT', () => {
    stopServices();
    process.exit(130);
  });
  const results = mkdtempSync(path.join(tmpdir(), 'gatehouse-test-run-'));
  try {
    // The servers started for this run stand in for the ones that did not answer.
    const started = new Set<Need>([...(services.env.GATEHOUSE_TEST_POSTGRES_URL ? ['postgres' as const] : []), ...(services.env.GATEHOUSE_TEST_REDIS_URL ? ['redis' as const] : [])]);
    const stillMissing = (await missingNeeds()).filter((need) => !started.has(need));
    for (const need of stillMissing) say(`not available: ${NEEDS[need].what} (install: ${installLine(need)}) — the tests that need it are skipped`);
    const env = { ...process.env, ...services.env };
    const stepsFailed: string[] = [];
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    if ((await run(npm, ['run', '-s', 'typecheck'], env)) !== 0) stepsFailed.push('npm run typecheck');
    if ((await run(npm, ['run', '-s', 'build'], env)) !== 0) return summarize([], [...stepsFailed, 'npm run build']);
    const reporter = path.join(ROOT, 'test/helpers/summary-reporter.mjs');
    // `npm test -- FILE…` runs only those files (each in its suite's way).
    const chosen = process.argv.slice(2).map((file) => path.resolve(file));
    const suites = [
      { name: 'in-process', dir: 'test/in-process', concurrency: 2 },
      { name: 'cross-process', dir: 'test', concurrency: 1 },
    ]
      .map((suite) => ({ ...suite, files: testFiles(path.join(ROOT, suite.dir)).filter((file) => chosen.length === 0 || chosen.includes(file)) }))
      .filter((suite) => suite.files.length > 0);
    for (const suite of suites) {
      const out = path.join(results, `${suite.name}.jsonl`);
      const args = ['--import', 'tsx', '--test', `--test-concurrency=${suite.concurrency}`, '--test-reporter=spec', '--test-reporter-destination=stdout', `--test-reporter=${reporter}`, `--test-reporter-destination=${out}`, ...suite.files];
      if ((await run(process.execPath, args, env)) !== 0 && readOutcomes(out).every((o) => o.outcome !== 'failed')) stepsFailed.push(`${suite.name} tests (the runner failed)`);
    }
    return summarize(
      suites.flatMap((suite) => readOutcomes(path.join(results, `${suite.name}.jsonl`))),
      stepsFailed,
    );
  } finally {
    rmSync(results, { recursive: true, force: true });
    stopServices();
  }
}

process.exitCode = await main();
