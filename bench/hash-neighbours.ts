// npm run bench:hash-neighbours [-- --n 150 --runs 5]
// How fast argon2id runs on one core depends on what the other core does. The hashing bound of
// bench:burst puts a hash beside a hash; during a burst, a hash also runs beside Gatehouse's own
// request work. This measures one hashing thread pinned to CPU 0 (milliseconds per hash, the
// service's parameters) while CPU 1 is idle, spins, allocates, hashes, or runs registrations.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { arg, machine, median } from './stats.js';

const n = arg('n', 150);
const runs = arg('runs', 5);
const HASH_BOUND = fileURLToPath(new URL('./hash-bound.ts', import.meta.url));
const REGISTRATIONS = fileURLToPath(new URL('./neighbours/registrations.ts', import.meta.url));

const neighbours: Record<string, string[] | null> = {
  idle: null,
  'spinning JavaScript (no allocation)': ['-e', 'for (;;) {}'],
  'allocating JavaScript (short-lived objects)': ['-e', 'const a = []; for (;;) { a.push({ x: Math.random(), s: "k" + Math.random() }); if (a.length > 200000) a.length = 0; }'],
  'another argon2id hash': ['--import', 'tsx', HASH_BOUND, '1000000'],
  "Gatehouse's registration work without hashing": ['--import', 'tsx', REGISTRATIONS],
};

/** Starts a neighbour on CPU 1 and resolves once it is busy. */
async function startNeighbour(args: string[]): Promise<ChildProcess> {
  const child = spawn('taskset', ['-c', '1', process.execPath, ...args], { env: { ...process.env, UV_THREADPOOL_SIZE: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
  if (args.includes(REGISTRATIONS)) await new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
  await new Promise((resolve) => setTimeout(resolve, 500));
  return child;
}

function msPerHash(): number {
  const result = spawnSync('taskset', ['-c', '0', process.execPath, '--import', 'tsx', HASH_BOUND, String(n)], { env: { ...process.env, UV_THREADPOOL_SIZE: '1' }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`hash-bound failed: ${result.stderr}`);
  return JSON.parse(result.stdout).ms / n;
}

// The conditions take turns within each run, so that the machine's drift (on a shared VM, larger
// than the effects measured) falls on all of them alike.
const samples = new Map<string, number[]>(Object.keys(neighbours).map((name) => [name, []]));
for (let run = 0; run < runs; run++) {
  for (const [name, args] of Object.entries(neighbours)) {
    const neighbour = args ? await startNeighbour(args) : undefined;
    try {
      samples.get(name)!.push(msPerHash());
    } finally {
      neighbour?.kill('SIGKILL');
    }
  }
}
const results: Array<[string, number]> = [...samples].map(([name, values]) => {
  console.log(`${name}: ${values.map((s) => s.toFixed(2)).join(', ')} ms per hash`);
  return [name, median(values)];
});
const alone = results[0]![1];
console.log(
  [
    `# bench:hash-neighbours — ${new Date().toISOString().slice(0, 10)}`,
    `machine: ${machine()}`,
    `one argon2id thread on CPU 0, ${n} hashes, median of ${runs}; CPU 1:`,
    ...results.map(([name, ms]) => `- ${name}: ${ms.toFixed(2)} ms per hash (${ms === alone ? 'baseline' : `${Math.abs((ms / alone - 1) * 100).toFixed(0)} % ${ms > alone ? 'slower' : 'faster'}`})`),
  ].join('\n'),
);
