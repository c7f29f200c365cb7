// npm run bench:oidc -- [--seconds 10] [--concurrency 64] [--runs 3] [--workers N] [--only sign-ins|refreshes|forward-auth] [--profile DIR]
// Single sign-on under load, on the embedded default (what `npm start` runs) with workers = cores:
// - authorization-code sign-ins per second for users already signed in to Gatehouse (no password
//   hashing): the authorization request (answered with a code at once) and the code's exchange at the
//   token endpoint, PKCE-checked, with an ID token signed;
// - refresh grants per second, each rotating its refresh token;
// - forward-auth checks per second (bench/forward-auth.ts, 16 connections), with p50/p99.
// Closed loops of `concurrency` clients on kept-alive connections for `seconds` each; medians over the runs.
// --profile DIR writes each server process's CPU profile there (node --cpu-prof), to see where time goes.
import { createHash, randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { registerThrough, runCli, startServer } from '../test/helpers/cluster.js';
import { closedLoop, keepAliveClient, type LoopResult, type RawResponse } from './closed-loop.js';
import { FORWARD_AUTH_SERVER_ENV, measureForwardAuth } from './forward-auth.js';
import { buildOnce, NPM_START_DEFAULTS } from './processes.js';
import { arg, machine, median, summarize } from './stats.js';

const seconds = arg('seconds', 10);
const concurrency = arg('concurrency', 64);
const runs = arg('runs', 3);
const workers = arg('workers', availableParallelism());
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const measures = (name: string) => only === undefined || only === name;
const profileDir = process.argv.includes('--profile') ? process.argv[process.argv.indexOf('--profile') + 1] : undefined;
const REDIRECT_URI = 'http://127.0.0.1:7/callback';

class Jar {
  private readonly cookies = new Map<string, string>();
  take(res: RawResponse): void {
    for (const header of [res.headers['set-cookie'] ?? []].flat()) {
      const [pair] = header.split(';');
      const at = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

const verifier = randomBytes(32).toString('base64url');
const challenge = createHash('sha256').update(verifier).digest('base64url');

async function oneRun() {
  const server = await startServer({ workers, defaultLimits: true, env: { ...NPM_START_DEFAULTS, ...FORWARD_AUTH_SERVER_ENV }, ...(profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}) });
  const client = keepAliveClient(server.port, concurrency);
  try {
    const created = await runCli(['clients', 'create', '--name', 'Bench app', '--redirect-uri', REDIRECT_URI, '--first-party', '--json'], { DATA_DIR: server.dataDir });
    if (created.code !== 0) throw new Error(`clients create: ${created.stderr}`);
    const { client_id: clientId, client_secret: clientSecret } = JSON.parse(created.stdout) as { client_id: string; client_secret: string };
    const basic = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
    const form = { 'content-type': 'application/x-www-form-urlencoded', authorization: basic };
    const authorizePath = (extra: Record<string, string> = {}) =>
      `/oidc/auth?${new URLSearchParams({ client_id: clientId, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, state: 's', nonce: 'n', code_challenge: challenge, code_challenge_method: 'S256', ...extra })}`;

    const origin = `http://127.0.0.1:${server.port}`;
    // One signed-in user per client loop, each with the provider's session after a first sign-in.
    const jars: Jar[] = [];
    const refreshTokens: string[] = [];
    for (let i = 0; i < concurrency; i++) {
      const registered = await registerThrough(server.port, server.invitationCode, `1580${String(i).padStart(7, '0')}`);
      if (registered.status !== 201) throw new Error(`register: ${JSON.stringify(registered.body)}`);
      const jar = new Jar();
      jar.take({ status: 201, headers: registered.headers, body: '' });
      // prompt=consent and offline_access: the first sign-in makes the provider's session and a refresh token.
      let location = `${origin}${authorizePath({ scope: 'openid offline_access', prompt: 'consent' })}`;
      // The provider's URLs are its issuer's (http://localhost:PORT without PUBLIC_URL): followed while they name this server.
      for (let hop = 0; hop < 8 && new URL(location).port === String(server.port); hop++) {
        const url = new URL(location);
        const res = await client.send('GET', url.pathname + url.search, { cookie: jar.header() });
        jar.take(res);
        location = new URL(String(res.headers.location ?? ''), url).toString();
      }
      const code = new URL(location).searchParams.get('code');
      if (!code) throw new Error(`no code in ${location}`);
      const tokens = await client.send('POST', '/oidc/token', form, new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }).toString());
      refreshTokens.push((JSON.parse(tokens.body) as { refresh_token: string }).refresh_token);
      jars.push(jar);
    }

    const signIns = !measures('sign-ins') ? undefined : await closedLoop(concurrency, seconds * 1000, async (loop) => {
      const auth = await client.send('GET', authorizePath(), { cookie: jars[loop]!.header() });
      const code = auth.status === 303 ? new URL(String(auth.headers.location)).searchParams.get('code') : null;
      if (!code) return `authorize ${auth.status}`;
      const token = await client.send('POST', '/oidc/token', form, new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }).toString());
      return token.status === 200 && token.body.includes('"id_token"') ? null : `token ${token.status}`;
    });

    const refreshes = !measures('refreshes') ? undefined : await closedLoop(concurrency, seconds * 1000, async (loop) => {
      const res = await client.send('POST', '/oidc/token', form, new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshTokens[loop]! }).toString());
      if (res.status !== 200) return `refresh ${res.status} ${res.body.slice(0, 80)}`;
      refreshTokens[loop] = (JSON.parse(res.body) as { refresh_token: string }).refresh_token;
      return null;
    });

    // Forward auth keeps 16 connections, as a reverse proxy's pool would: a closed loop of 64 at 6,000/s
    // would average over 10 ms per check by construction.
    const forwardAuth = measures('forward-auth') ? await measureForwardAuth(server, { seconds }) : undefined;
    return { signIns, refreshes, forwardAuth };
  } finally {
    client.close();
    await server.stop();
  }
}

function line(name: string, results: LoopResult[]): string {
  const stats = results.map((r) => summarize(r.latencies));
  const failures = results.reduce((n, r) => n + r.failed, 0);
  return `${name}: ${median(results.map((r) => r.perSecond)).toFixed(0)}/s, p50 ${median(stats.map((s) => s.p50)).toFixed(1)} ms, p99 ${median(stats.map((s) => s.p99)).toFixed(1)} ms${failures ? `, ${failures} failed: ${JSON.stringify(results.map((r) => r.failures))}` : ''}`;
}

buildOnce();
const results = [];
for (let run = 0; run < runs; run++) {
  const r = await oneRun();
  results.push(r);
  console.log(`run ${run + 1}: ${[['sign-ins', r.signIns], ['refreshes', r.refreshes], ['forward-auth', r.forwardAuth]].flatMap(([name, m]) => (m ? [`${name as string} ${(m as LoopResult).perSecond.toFixed(0)}/s`] : [])).join(', ')}`);
}
const forward = results.flatMap((r) => (r.forwardAuth ? [r.forwardAuth] : []));
console.log(
  [
    `# bench:oidc — ${new Date().toISOString().slice(0, 10)}`,
    `machine: ${machine()}`,
    `embedded SQLite, ${workers} workers, ${concurrency} clients on kept-alive connections, ${seconds} s per measure, median of ${runs}`,
    measures('sign-ins') ? line('authorization-code sign-ins (signed-in user: authorize + token exchange)', results.map((r) => r.signIns!)) : '',
    measures('refreshes') ? line('refresh grants (rotating)', results.map((r) => r.refreshes!)) + ' (goal ≥ 1,000/s)' : '',
    forward.length ? line('forward-auth checks (16 connections)', forward) + ' (goal ≥ 5,000/s, p99 ≤ 10 ms)' : '',
  ].filter(Boolean).join('\n'),
);
