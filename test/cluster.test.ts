// Cross-process behaviour with real `gatehouse serve` process trees: the point of the shared store.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { cookieOf, metricValue, request, runCli, scrapeMetrics, startServer, uniquePhone, type ServerProcess } from './helpers/cluster.js';

const PASSWORD = 'a good long passphrase';

async function captcha(port: number, purpose = 'login') {
  const res = await request(port, 'GET', `/api/auth/captcha/generate?purpose=${purpose}`);
  assert.equal(res.status, 200);
  return { id: res.body.captcha_id as string, worker: res.worker };
}

async function registerUser(port: number, invitationCode: string, phone = uniquePhone()) {
  const c = await captcha(port, 'register');
  const res = await request(port, 'POST', '/api/auth/register', {
    body: { phone, password: PASSWORD, name: 'Teacher', invitation_code: invitationCode, captcha_id: c.id, captcha: 'TEST' },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { phone, cookie: cookieOf(res) };
}

function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

describe('four worker processes share one store', () => {
  let server: ServerProcess;
  let phone: string;
  before(async () => {
    // Only HTTP workers: this suite counts them and kills one.
    server = await startServer({ workers: 4, killsWorkers: true });
    ({ phone } = await registerUser(server.port, server.invitationCode));
  });
  after(() => server?.stop());

  it('200 captcha flows whose generate and verify landed on different workers all succeed', async () => {
    let crossed = 0;
    let attempts = 0;
    const workersSeen = new Set<string>();
    while (crossed < 200 && attempts < 800) {
      const batch = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const c = await captcha(server.port);
          const res = await request(server.port, 'POST', '/api/auth/login', { body: { phone, password: PASSWORD, captcha_id: c.id, captcha: 'TEST' } });
          return { generatedOn: c.worker, verifiedOn: res.worker, status: res.status, body: res.body };
        }),
      );
      for (const flow of batch) {
        attempts++;
        assert.equal(flow.status, 200, `flow failed: ${JSON.stringify(flow)}`);
        assert.ok(flow.generatedOn !== undefined && flow.verifiedOn !== undefined);
        workersSeen.add(flow.generatedOn!).add(flow.verifiedOn!);
        if (flow.generatedOn !== flow.verifiedOn) crossed++;
      }
    }
    assert.ok(crossed >= 200, `only ${crossed} of ${attempts} flows crossed workers`);
    assert.deepEqual([...workersSeen].sort(), ['0', '1', '2', '3']);
  });

  it('one captcha, 50 concurrent correct verifications over the workers: exactly one succeeds', async () => {
    const c = await captcha(server.port);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => request(server.port, 'POST', '/api/auth/login', { body: { phone, password: PASSWORD, captcha_id: c.id, captcha: 'TEST' } })),
    );
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, JSON.stringify(results.map((r) => r.status)));
    for (const r of results.filter((x) => x.status !== 200)) {
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, 'CAPTCHA_EXPIRED');
    }
    assert.ok(new Set(results.map((r) => r.worker)).size >= 2, 'the attempts were spread over workers');
  });

  it('a wrong answer consumes the captcha', async () => {
    const c = await captcha(server.port);
    const wrong = await request(server.port, 'POST', '/api/auth/login', { body: { phone, password: PASSWORD, captcha_id: c.id, captcha: 'NOPE' } });
    assert.equal(wrong.body.error.code, 'CAPTCHA_INVALID');
    const right = await request(server.port, 'POST', '/api/auth/login', { body: { phone, password: PASSWORD, captcha_id: c.id, captcha: 'TEST' } });
    assert.equal(right.status, 400);
    assert.equal(right.body.error.code, 'CAPTCHA_EXPIRED');
  });

  it('20 concurrent registrations of one phone: exactly one 201, the rest 409 PHONE_TAKEN, no 5xx', async () => {
    const samePhone = uniquePhone();
    const captchas = await Promise.all(Array.from({ length: 20 }, () => captcha(server.port, 'register')));
    const results = await Promise.all(
      captchas.map((c) =>
        request(server.port, 'POST', '/api/auth/register', {
          body: { phone: samePhone, password: PASSWORD, name: 'Twin', invitation_code: server.invitationCode, captcha_id: c.id, captcha: 'TEST' },
        }),
      ),
    );
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 1, JSON.stringify(statuses));
    assert.equal(statuses.filter((s) => s === 409).length, 19, JSON.stringify(statuses));
    assert.ok(results.filter((r) => r.status === 409).every((r) => r.body.error.code === 'PHONE_TAKEN'));
  });

  it('a session made on one worker works on every other', async () => {
    const { cookie } = await registerUser(server.port, server.invitationCode);
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const me = await request(server.port, 'GET', '/api/auth/me', { cookie });
      assert.equal(me.status, 200);
      seen.add(me.worker!);
    }
    assert.ok(seen.size >= 3, `sessions were checked on ${seen.size} workers`);
  });

  it('an organization\'s SMS setting changed by the CLI holds at once on every worker, whatever their caches hold', async () => {
    const attempt = async () => {
      const c = await captcha(server.port, 'register');
      const body = { phone: uniquePhone(), password: PASSWORD, name: 'Teacher', invitation_code: server.invitationCode, captcha_id: c.id, captcha: 'TEST' };
      return request(server.port, 'POST', '/api/auth/register', { body });
    };
    const orgSet = async (flag: 'yes' | 'no') => {
      const out = await runCli(['org', 'set', '--id', '1', '--require-sms', flag, '--json'], { DATA_DIR: server.dataDir });
      assert.equal(out.code, 0, out.stderr);
      assert.equal(JSON.parse(out.stdout).register_requires_sms, flag === 'yes');
    };
    // Every worker caches the invitation code as "no SMS code needed" (round-robin: 8 reach all 4).
    const warm = await Promise.all(Array.from({ length: 8 }, attempt));
    assert.deepEqual(warm.map((r) => r.status), Array(8).fill(201));
    assert.ok(new Set(warm.map((r) => r.worker)).size >= 2);
    await orgSet('yes');
    try {
      // Twice: the first round finds the stale caches, the second leaves every worker caching "SMS code needed".
      for (let round = 0; round < 2; round++) {
        const refused = await Promise.all(Array.from({ length: 8 }, attempt));
        assert.deepEqual(refused.map((r) => r.body.error?.code), Array(8).fill('SMS_CODE_REQUIRED'));
        assert.ok(new Set(refused.map((r) => r.worker)).size >= 2);
      }
    } finally {
      await orgSet('no');
    }
    // Turned off, it must not refuse anyone, although the workers cache "SMS code needed".
    const admitted = await Promise.all(Array.from({ length: 8 }, attempt));
    assert.deepEqual(admitted.map((r) => r.status), Array(8).fill(201));
  });

  it('a worker killed with SIGKILL is replaced, counted, and requests keep succeeding', async () => {
    const exits = async () => metricValue(await scrapeMetrics(server.port), 'gatehouse_worker_exits_total', { role: 'http' });
    assert.equal(await exits(), 0, `no worker died before this test:\n${server.output().slice(-3000)}`);
    const before = childPids(server.child.pid!);
    assert.equal(before.length, 4, `expected 4 workers, found ${before.length}`);
    // Requests keep flowing while the worker dies: each one is answered, or its connection closed (the
    // dead worker's own in-flight requests); none is left waiting for an answer that never comes.
    const flowing = flowOfRequests(server.port, 1_500);
    await sleep(300);
    process.kill(before[0]!, 'SIGKILL');
    const outcomes = await flowing;
    assert.equal(outcomes.filter((o) => o === 'no answer').length, 0, `${outcomes.length} requests: ${JSON.stringify(tally(outcomes))}`);
    assert.ok(outcomes.filter((o) => o === 200).length > outcomes.length / 2, JSON.stringify(tally(outcomes)));
    let replaced = false;
    for (let i = 0; i < 200 && !replaced; i++) {
      await sleep(50);
      const now = childPids(server.child.pid!);
      replaced = now.length === 4 && !now.includes(before[0]!);
    }
    assert.ok(replaced, 'a new worker took the killed one\'s place');
    // The replacement answers once it has started and listens, which takes seconds on a loaded
    // machine: wait for it by the clock, not by a count of requests.
    const workers = new Set<string>();
    const deadline = Date.now() + 30_000;
    while (workers.size < 4 && Date.now() < deadline) {
      const res = await request(server.port, 'GET', '/api/auth/captcha/generate');
      assert.equal(res.status, 200);
      workers.add(res.worker!);
      await sleep(20);
    }
    assert.deepEqual([...workers].sort(), ['0', '1', '2', '3'], 'the replacement serves under the dead worker\'s index');
    assert.equal(await exits(), 1, 'the primary counts the exit, whichever worker is asked');
  });
});

describe('captcha expiry across workers', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer({ workers: 2, env: { CAPTCHA_TTL_SECONDS: '1' } });
  });
  after(() => server?.stop());

  it('an expired captcha is refused even with the right answer', async () => {
    const { phone } = await registerUser(server.port, server.invitationCode);
    const fresh = await captcha(server.port);
    const stale = await captcha(server.port);
    const ok = await request(server.port, 'POST', '/api/auth/login', { body: { phone, password: PASSWORD, captcha_id: fresh.id, captcha: 'TEST' } });
    assert.equal(ok.status, 200);
    await sleep(1_300);
    const res = await request(server.port, 'POST', '/api/auth/login', { body: { phone, password: PASSWORD, captcha_id: stale.id, captcha: 'TEST' } });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'CAPTCHA_EXPIRED');
  });
});

type Outcome = number | 'closed' | 'no answer';

/**
 * What became of one request: its status, its connection closed or reset without an answer, or nothing
 * within `timeoutMs`. `onSent` hears when the whole request has been written to its connection: it
 * has reached the server's machine.
 */
function outcomeOf(port: number, method: string, urlPath: string, body?: unknown, timeoutMs = 8_000, onSent?: () => void): Promise<Outcome> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, agent: false, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 503 && !res.headers['retry-after'] ? -503 : res.statusCode!));
      res.on('error', () => resolve('closed'));
    });
    req.setTimeout(timeoutMs, () => {
      resolve('no answer');
      req.destroy();
    });
    req.on('error', () => resolve('closed'));
    if (onSent) req.once('finish', onSent);
    req.end(payload);
  });
}

/** Eight clients sending requests one after another for `ms`. */
async function flowOfRequests(port: number, ms: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const until = Date.now() + ms;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (Date.now() < until) outcomes.push(await outcomeOf(port, 'GET', '/api/auth/captcha/generate'));
    }),
  );
  return outcomes;
}

function tally(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[String(o)] = (counts[String(o)] ?? 0) + 1;
  return counts;
}

describe('shutdown loses no request', () => {
  for (const afterMs of [30, 300]) {
    it(`SIGTERM ${afterMs} ms after 40 registrations are sent: each one answered 201 or 503 with Retry-After, none reset, accounts = the 201s`, async () => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-sigterm-'));
      try {
        const server = await startServer({ workers: 2, dataDir });
        const captchas = await Promise.all(Array.from({ length: 40 }, () => captcha(server.port, 'register')));
        let sent: Array<Promise<Outcome>> = [];
        let written = 0;
        const allWritten = new Promise<void>((resolve) => {
          const onSent = () => ++written === captchas.length && resolve();
          sent = captchas.map((c, i) =>
            outcomeOf(server.port, 'POST', '/api/auth/register', { phone: `1391${String(afterMs).padStart(3, '0')}${String(i).padStart(4, '0')}`, password: PASSWORD, name: `T${i}`, invitation_code: server.invitationCode, captcha_id: c.id, captcha: 'TEST' }, 30_000, onSent),
          );
        });
        // The signal comes afterMs after the last request reached the machine (a loaded client may take
        // longer than that to write 40 requests; one written after the signal may be refused, rightly).
        await allWritten;
        await sleep(afterMs);
        const exited = server.stop('SIGTERM');
        const outcomes = await Promise.all(sent);
        assert.equal(await exited, 0);
        assert.deepEqual(outcomes.filter((o) => o !== 201 && o !== 503), [], JSON.stringify(tally(outcomes)));
        const orgs = JSON.parse((await runCli(['org', 'list', '--json'], { DATA_DIR: dataDir })).stdout);
        assert.equal(orgs[0].user_count, outcomes.filter((o) => o === 201).length, 'an account for each 201 and for nothing else');
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  }

  it('SHUTDOWN_DELAY_MS: readiness fails at once while requests are still served (closing their connections), then the server stops', async () => {
    const server = await startServer({ workers: 2, env: { SHUTDOWN_DELAY_MS: '1500' } });
    assert.equal((await request(server.port, 'GET', '/readyz')).status, 200);
    const exited = server.stop('SIGTERM');
    await sleep(300);
    const ready = await request(server.port, 'GET', '/readyz');
    assert.equal(ready.status, 503);
    assert.equal(ready.body.checks.serving, 'draining');
    const served = await request(server.port, 'GET', '/api/auth/captcha/generate');
    assert.equal(served.status, 200);
    assert.equal(served.headers.connection, 'close');
    assert.equal(server.child.exitCode, null, 'still serving during the delay');
    assert.equal(await exited, 0);
  });
});

describe('graceful shutdown', () => {
  it('SIGTERM lets an in-flight request finish, then the primary exits 0', async () => {
    // The default process tree, task worker included.
    const server = await startServer({ workers: 2, env: { TASK_WORKERS: '1' } });
    const body = JSON.stringify({ phone: '13800000000', password: 'whatever it is', captcha_id: 'abc', captcha: 'TEST' });
    const socket = net.connect(server.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let response = '';
    socket.on('data', (d) => (response += d));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    // Headers and half the body: the request is in flight on a worker.
    socket.write(`POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`);
    await sleep(300);
    const exited = server.stop('SIGTERM');
    await sleep(500);
    assert.equal(server.child.exitCode, null, 'the server waits for the in-flight request');
    socket.end(body.slice(10));
    await closed;
    assert.match(response, /^HTTP\/1\.1 400 /, response);
    assert.match(response, /CAPTCHA_EXPIRED/);
    assert.equal(await exited, 0);
    // Node prints a process warning (a deprecation, say) as "(node:PID) [CODE] …": a server's whole life prints none.
    assert.doesNotMatch(server.output(), /\(node:\d+\) /);
  });
});
