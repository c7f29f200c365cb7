// Single sign-on across real processes: a platform administrator signed in to a running Gatehouse,
// apps registered with the command line or the admin API, accounts, raw token-endpoint requests
// (which worker or server answered), and the example relying party (examples/oidc-node-app) run as its
// own process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { cookieOf, freePort, loginThrough, request, ROOT, runCli, uniquePhone, type HttpResult } from './cluster.js';

export const SSO_PASSWORD = 'a good long passphrase';

/** Creates an administrator with `gatehouse admin create` (cliEnv names the server's data: DATA_DIR, DATABASE_URL…) and signs them in at `port`; the session cookie. */
export async function signedInAdministrator(port: number, cliEnv: Record<string, string>): Promise<string> {
  const phone = uniquePhone();
  const created = await runCli(['admin', 'create', '--phone', phone, '--name', 'Admin', '--password-stdin', '--json'], cliEnv, `${SSO_PASSWORD}\n`);
  assert.equal(created.code, 0, created.stderr);
  const login = await loginThrough(port, phone, SSO_PASSWORD);
  assert.equal(login.status, 200, JSON.stringify(login.body));
  return cookieOf(login);
}

export interface RegisteredApp {
  client_id: string;
  client_secret: string | null;
}

/** Registers an app with `gatehouse clients create … --json`, as examples/oidc-node-app/README.md says (cliEnv names the server's data). */
export async function registerAppWithCli(cliEnv: Record<string, string>, args: string[]): Promise<RegisteredApp> {
  const created = await runCli(['clients', 'create', ...args, '--json'], cliEnv);
  assert.equal(created.code, 0, created.stderr);
  const out = JSON.parse(created.stdout) as { client_id: string; client_secret?: string };
  return { client_id: out.client_id, client_secret: out.client_secret ?? null };
}

/** Registers an app through the admin API (POST /api/admin/oidc/clients), as the console does. */
export async function registerApp(port: number, adminCookie: string, body: Record<string, unknown>): Promise<RegisteredApp> {
  const res = await request(port, 'POST', '/api/admin/oidc/clients', { cookie: adminCookie, body });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { client_id: res.body.client.client_id, client_secret: res.body.client_secret };
}

export interface Account {
  id: number;
  phone: string;
  name: string;
  /** The Gatehouse session cookie registration signed the account in with. */
  cookie: string;
}

/** Registers an account with an invitation code; registering signs it in. */
export async function newAccount(port: number, invitationCode: string, name = '李老师'): Promise<Account> {
  const phone = uniquePhone();
  const captcha = await request(port, 'GET', '/api/auth/captcha/generate?purpose=register');
  const res = await request(port, 'POST', '/api/auth/register', {
    body: { phone, password: SSO_PASSWORD, name, invitation_code: invitationCode, captcha_id: captcha.body.captcha_id, captcha: 'TEST' },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { id: res.body.user.id, phone, name, cookie: cookieOf(res) };
}

/** A token-endpoint request on a new connection (so that the cluster spreads them over workers), the app authenticated with client_secret_basic. */
export function tokenRequest(port: number, app: RegisteredApp, params: Record<string, string>): Promise<HttpResult> {
  const basic = Buffer.from(`${encodeURIComponent(app.client_id)}:${encodeURIComponent(app.client_secret ?? '')}`).toString('base64');
  return request(port, 'POST', '/oidc/token', { rawBody: new URLSearchParams(params).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` } });
}

/** A JWT's protected header and payload, undecoded signature left alone (verification is the test's own business). */
export function decodeJwt(jwt: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = jwt.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>);
  return { header: header!, payload: payload! };
}

export interface ExampleApp {
  port: number;
  stop(): Promise<void>;
}

const EXAMPLE = path.join(ROOT, 'examples/oidc-node-app/server.js');

/** Runs examples/oidc-node-app/server.js as a developer would (`node server.js` with its environment variables), on `port`. */
export async function startExampleApp(options: { issuer: string; app: RegisteredApp; redirectUri: string; port?: number }): Promise<ExampleApp> {
  const port = options.port ?? (await freePort());
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ISSUER: options.issuer, CLIENT_ID: options.app.client_id, REDIRECT_URI: options.redirectUri, PORT: String(port) };
  if (options.app.client_secret) env.CLIENT_SECRET = options.app.client_secret;
  else delete env.CLIENT_SECRET;
  const child = spawn(process.execPath, [EXAMPLE], { cwd: path.dirname(EXAMPLE), env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the example app did not start in 15 s:\n${output}`)), 15_000);
    child.stdout.on('data', () => {
      if (output.includes('Example app listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the example app exited with ${code}:\n${output}`));
    });
  });
  return {
    port,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      // An error the app logged (a failed callback, say) is a failure even if the page looked right.
      assert.doesNotMatch(output, /Error/, `the example app logged an error:\n${output}`);
    },
  };
}
