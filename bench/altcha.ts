// npm run bench:altcha — the proof-of-work challenge at each difficulty level: the time Chromium takes to
// solve it with the pages' own solver (the built module worker, as many as the pages start), and what the
// server pays: issuing a challenge (one key derivation) and verifying a solution (HMACs plus the store's
// atomic take). Needs `npm run build:web` first (the worker comes from build/web).
//   --samples N   solutions per level for levels 0–2 (default 10; level 3 takes half, level 4 a third)
//   --workers N   solver workers in the page (default: what the pages use on this machine)
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { verifySolution, type Challenge, type Solution } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import { counterRange, POW_ALGORITHM, POW_COST, POW_MAX_LEVEL, powSecrets, ProofOfWork } from '../src/captcha/pow.js';
import { createSqliteStore } from '../src/kv/sqlite.js';
import { launchBrowser } from '../test/helpers/browser.js';
import { arg, machine, summarize } from './stats.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const ASSETS = path.join(ROOT, 'build/web/assets');
const samples = arg('samples', 10);

/** A same-origin page with the pages' CSP, serving the built solver worker. */
function serveAssets(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const headers = { 'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'" };
    if (req.url?.startsWith('/assets/')) {
      const file = path.join(ASSETS, path.basename(req.url));
      res.writeHead(200, { ...headers, 'content-type': 'text/javascript' });
      return void res.end(readFileSync(file));
    }
    res.writeHead(200, { ...headers, 'content-type': 'text/html' });
    res.end('<!doctype html><title>bench</title>');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function samplesFor(level: number): number {
  return level <= 2 ? samples : level === 3 ? Math.max(2, Math.ceil(samples / 2)) : Math.max(2, Math.ceil(samples / 3));
}

async function main() {
  const workerFile = readdirSync(ASSETS).find((name) => /^pow-worker-.*\.js$/.test(name));
  if (!workerFile) throw new Error('no build/web/assets/pow-worker-*.js: run npm run build:web first');
  const dir = mkdtempSync(path.join(tmpdir(), 'altcha-bench-'));
  const kv = createSqliteStore({ file: path.join(dir, 'kv.sqlite') });
  const secret = 'b'.repeat(40);
  const pow = new ProofOfWork({ kv, secret, ttlSeconds: 3600 });
  const server = await serveAssets();
  const { browser, close } = await launchBrowser();
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  const pageWorkers = await page.evaluate(() => Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2)));
  const workers = arg('workers', pageWorkers);

  console.log(`ALTCHA proof of work — ${POW_ALGORITHM}, ${POW_COST} iterations per guess, deterministic (counter chosen by the server)`);
  console.log(machine());
  console.log(`Chromium ${browser.version()}, ${workers} solver worker(s)\n`);
  console.log('level | counter range | solve in Chromium p50 / max | server: issue p50 | signature + key check p50 | full check (+ SQLite take) p50 / p99 | n');

  try {
    // Warm-up: the first worker start compiles the bundle.
    await solveInPage(page, `/assets/${workerFile}`, await pow.challengeAt('login', 0), workers);
    for (let level = 0; level <= POW_MAX_LEVEL; level++) {
      const solveTimes: number[] = [];
      const issueTimes: number[] = [];
      const verifyTimes: number[] = [];
      const hmacTimes: number[] = [];
      for (let i = 0; i < samplesFor(level); i++) {
        let started = performance.now();
        const challenge = await pow.challengeAt('login', level);
        issueTimes.push(performance.now() - started);
        const { solution, ms } = await solveInPage(page, `/assets/${workerFile}`, challenge, workers);
        solveTimes.push(ms);
        const payload = Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
        // Let the browser's last messages settle, so that the timings below are the server's alone.
        await new Promise((resolve) => setTimeout(resolve, 50));
        // Stateless, so repeated: the median of 20 is the cost of one.
        for (let r = 0; r < 20; r++) {
          started = performance.now();
          const hmacOnly = await verifySolution({ challenge, solution, deriveKey, ...powSecrets(secret) });
          hmacTimes.push(performance.now() - started);
          if (!hmacOnly.verified) throw new Error(`level ${level}: not verified`);
        }
        started = performance.now();
        const outcome = await pow.check(payload, 'login');
        verifyTimes.push(performance.now() - started);
        if (outcome !== 'ok') throw new Error(`level ${level}: verify said ${outcome}`);
      }
      const solve = summarize(solveTimes);
      const issue = summarize(issueTimes);
      const verify = summarize(verifyTimes);
      const hmac = summarize(hmacTimes);
      const { min, max } = counterRange(level);
      console.log(
        `${level} | ${min}–${max - 1} | ${(solve.p50 / 1000).toFixed(2)} s / ${(solve.max / 1000).toFixed(2)} s | ${issue.p50.toFixed(2)} ms | ${hmac.p50.toFixed(3)} ms | ${verify.p50.toFixed(3)} ms / ${verify.p99.toFixed(3)} ms | ${solve.n}`,
      );
    }
  } finally {
    await close();
    server.close();
    await kv.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Solves `challenge` in the page with `workers` module workers, interleaving counters as altcha-lib does. */
async function solveInPage(page: import('playwright-core').Page, workerUrl: string, challenge: Challenge, workers: number): Promise<{ solution: Solution; ms: number }> {
  return page.evaluate(
    async ({ workerUrl, challenge, workers }) => {
      const started = performance.now();
      const pool = Array.from({ length: workers }, () => new Worker(workerUrl, { type: 'module' }));
      try {
        const solution = await Promise.race(
          pool.map(
            (worker, i) =>
              new Promise<Solution>((resolve, reject) => {
                worker.onmessage = (event) => (event.data && !event.data.error ? resolve(event.data) : event.data?.error && reject(new Error(event.data.error)));
                worker.onerror = (event) => reject(new Error(event.message));
                worker.postMessage({ type: 'work', challenge, counterStart: i, counterStep: workers, timeout: 600_000 });
              }),
          ),
        );
        return { solution, ms: performance.now() - started };
      } finally {
        for (const worker of pool) worker.terminate();
      }
    },
    { workerUrl, challenge, workers },
  );
}

await main();
