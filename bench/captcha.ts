// npm run bench:captcha — captcha generation: time per image, CPU per image (→ images/s per core),
// PNG size, the full issue path on the embedded store, and (when tesseract is installed) how many
// images an off-the-shelf OCR reads correctly.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { renderCaptchaPng } from '../src/captcha/image.js';
import { CaptchaService, drawRandomAnswer } from '../src/captcha/service.js';
import { createSqliteStore } from '../src/kv/sqlite.js';
import { arg, machine, summarize } from './stats.js';

const n = arg('n', 2000);
const ocrSamples = arg('ocr', 200);

async function renderTimes(count: number) {
  const times: number[] = [];
  const sizes: number[] = [];
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  for (let i = 0; i < count; i++) {
    const answer = drawRandomAnswer(4);
    const started = performance.now();
    const png = await renderCaptchaPng(answer);
    times.push(performance.now() - started);
    sizes.push(png.length);
  }
  const cpu = process.cpuUsage(cpuStart);
  return { times, sizes, cpuMsPerImage: (cpu.user + cpu.system) / 1000 / count, wallMs: performance.now() - wallStart };
}

function tesseractVersion(): string | null {
  try {
    return execFileSync('tesseract', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0] ?? 'tesseract';
  } catch {
    return null;
  }
}

async function ocrRate(samples: number) {
  const dir = mkdtempSync(path.join(tmpdir(), 'captcha-ocr-'));
  let exact = 0;
  let characters = 0;
  try {
    for (let i = 0; i < samples; i++) {
      const answer = drawRandomAnswer(4);
      const file = path.join(dir, `${i}.png`);
      writeFileSync(file, await renderCaptchaPng(answer));
      // psm 7: a single text line, the most favourable mode for a captcha.
      const read = execFileSync('tesseract', [file, 'stdout', '--psm', '7', '-c', 'tessedit_char_whitelist=ABCDEFGHJKLMNPQRSTUVWXYZ23456789'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).replace(/\s+/g, '');
      if (read === answer) exact++;
      for (let c = 0; c < answer.length; c++) if (read[c] === answer[c]) characters++;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { exact: exact / samples, characters: characters / (samples * 4) };
}

async function main() {
  await renderTimes(100); // warm-up: font registration, JIT
  const render = await renderTimes(n);
  const time = summarize(render.times);
  const size = summarize(render.sizes);

  const dir = mkdtempSync(path.join(tmpdir(), 'captcha-bench-'));
  const kv = createSqliteStore({ file: path.join(dir, 'kv.sqlite') });
  const service = new CaptchaService({ kv, secret: 'b'.repeat(40), ttlSeconds: 300, length: 4 });
  const issueTimes: number[] = [];
  for (let i = 0; i < Math.min(n, 1000); i++) {
    const started = performance.now();
    await service.issue('login');
    issueTimes.push(performance.now() - started);
  }
  await kv.close();
  rmSync(dir, { recursive: true, force: true });
  const issue = summarize(issueTimes);

  const lines = [
    `# bench:captcha — ${new Date().toISOString().slice(0, 10)}`,
    `machine: ${machine()}`,
    `images: ${n} (120×40 PNG, 4 characters)`,
    `render+encode per image: p50 ${time.p50.toFixed(2)} ms, p99 ${time.p99.toFixed(2)} ms`,
    `CPU per image: ${render.cpuMsPerImage.toFixed(2)} ms → ${(1000 / render.cpuMsPerImage).toFixed(0)} images/s per core`,
    `PNG size: p50 ${size.p50} B, max ${size.max} B`,
    `issue (render + HMAC + store in embedded SQLite kv): p50 ${issue.p50.toFixed(2)} ms, p99 ${issue.p99.toFixed(2)} ms`,
  ];
  const tesseract = tesseractVersion();
  if (tesseract) {
    const ocr = await ocrRate(ocrSamples);
    lines.push(`OCR (${tesseract}, psm 7, alphabet whitelist, ${ocrSamples} images): ${(ocr.exact * 100).toFixed(1)}% read exactly, ${(ocr.characters * 100).toFixed(1)}% of characters right`);
  } else {
    lines.push('OCR: tesseract not installed (apt-get install tesseract-ocr) — skipped');
  }
  const goals = [`goal p50 ≤ 2 ms: ${time.p50 <= 2 ? 'met' : 'NOT met'}`, `goal ≤ 10 KB: ${size.max <= 10_240 ? 'met' : 'NOT met'}`];
  console.log([...lines, ...goals].join('\n'));
}

await main();
