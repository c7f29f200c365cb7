// npm run bench:import -- [--rows 10000] [--runs 3] [--logins 4]
// A 10,000-row roster imported into `gatehouse serve` on the embedded default (compiled build, HTTP
// workers = CPU count, one forked task worker), while `logins` clients keep logging in with passwords
// to show that the service answers meanwhile. Reports the import's duration (upload to the last row
// committed, as the server records it), and the logins' statuses and latency during the import.
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { cookieOf, loginThrough, mapConcurrent, registerThrough, request, runCli, startServer } from '../test/helpers/cluster.js';
import { buildOnce } from './processes.js';
import { arg, machine, median, summarize } from './stats.js';

const rows = arg('rows', 10_000);
const runs = arg('runs', 3);
const loginClients = arg('logins', 4);
const PASSWORD = 'workshop passphrase 2026';

function roster(run: number): string {
  const lines = ['姓名,手机号,角色'];
  for (let i = 0; i < rows; i++) lines.push(`教师${i},136${String(run).padStart(2, '0')}${String(i).padStart(6, '0')},${i % 100 === 0 ? '管理员' : '教师'}`);
  return lines.join('\r\n') + '\r\n';
}

async function oneRun(run: number) {
  const server = await startServer({ workers: availableParallelism(), env: { TASK_WORKERS: '1', TASK_POLL_MS: '100' } });
  try {
    const adminPhone = '13500000000';
    const created = await runCli(['admin', 'create', '--phone', adminPhone, '--name', 'Admin', '--password-stdin', '--json'], { DATA_DIR: server.dataDir }, PASSWORD);
    if (created.code !== 0) throw new Error(created.stderr);
    const admin = cookieOf(await loginThrough(server.port, adminPhone, PASSWORD));
    const phones = Array.from({ length: 20 }, (_, i) => `1590${String(i).padStart(7, '0')}`);
    await mapConcurrent(phones, 8, (phone) => registerThrough(server.port, server.invitationCode, phone, PASSWORD));

    const body = roster(run);
    const uploadStarted = performance.now();
    const upload = await request(server.port, 'POST', '/api/admin/organizations/1/imports?file_name=roster.csv', { headers: { cookie: admin, 'content-type': 'text/csv' }, rawBody: body });
    if (upload.status !== 202) throw new Error(`upload: ${upload.status} ${JSON.stringify(upload.body)}`);
    const importId = upload.body.import.id as number;

    let done = false;
    const latencies: number[] = [];
    const statuses: Record<string, number> = {};
    const clients = Array.from({ length: loginClients }, async (_, c) => {
      for (let i = 0; !done; i++) {
        const sent = performance.now();
        const res = await loginThrough(server.port, phones[(c * 7 + i) % phones.length]!, PASSWORD);
        latencies.push(performance.now() - sent);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      }
    });
    let status;
    for (;;) {
      status = (await request(server.port, 'GET', `/api/admin/imports/${importId}`, { cookie: admin })).body.import;
      if (status.task?.state === 'succeeded' || status.task?.state === 'dead') break;
      await sleep(50);
    }
    const clientMs = performance.now() - uploadStarted;
    done = true;
    await Promise.all(clients);
    if (status.task.state !== 'succeeded') throw new Error(`import failed: ${status.task.last_error}`);
    const task = (await request(server.port, 'GET', `/api/admin/tasks/${status.task.id}`, { cookie: admin })).body.task;
    const serverMs = Date.parse(task.finished_at) - Date.parse(task.created_at);
    return { serverMs, clientMs, counts: status.counts, logins: latencies.length, statuses, ...summarize(latencies) };
  } finally {
    await server.stop();
  }
}

buildOnce();
const results = [];
for (let run = 0; run < runs; run++) {
  const r = await oneRun(run);
  results.push(r);
  console.log(
    `run ${run + 1}: ${rows} rows imported in ${(r.serverMs / 1000).toFixed(2)} s (task created → finished; ${(r.clientMs / 1000).toFixed(2)} s upload → seen done), counts ${JSON.stringify(r.counts)}; ` +
      `meanwhile ${r.logins} password logins, statuses ${JSON.stringify(r.statuses)}, p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms`,
  );
}
const importMs = median(results.map((r) => r.serverMs));
console.log(
  [
    `# bench:import — ${new Date().toISOString().slice(0, 10)}`,
    `machine: ${machine()}`,
    `median of ${runs}: ${rows} rows in ${(importMs / 1000).toFixed(2)} s (${(rows / (importMs / 1000)).toFixed(0)} rows/s; goal ≤ 10 s: ${importMs <= 10_000 ? 'met' : 'NOT met'}), ` +
      `upload → seen done ${(median(results.map((r) => r.clientMs)) / 1000).toFixed(2)} s`,
    `logins during the import (${loginClients} clients): median ${median(results.map((r) => r.logins))} logins, p50 ${median(results.map((r) => r.p50)).toFixed(0)} ms, p99 ${median(results.map((r) => r.p99)).toFixed(0)} ms, statuses ${JSON.stringify(results.map((r) => r.statuses))}`,
  ].join('\n'),
);
