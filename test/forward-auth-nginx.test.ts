// Forward auth as a school deploys it: a real nginx, running the configuration of
// docs/connect-an-app.md (read from the document itself, so that the recipe there is the one tested),
// in front of Gatehouse (two workers) and a small application that echoes the Remote-* headers it
// receives. Over TLS, with COOKIE_DOMAIN, and a client that keeps cookies as a browser does.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { freePort, ROOT, runCli, startServer, type ServerProcess } from './helpers/cluster.js';
import { nginxPreamble, runNginx, type Nginx } from './helpers/nginx.js';
import { unmet } from './helpers/requirements.js';

const PASSWORD = 'a good long passphrase';

/** The fenced block of docs/connect-an-app.md whose first line is `# <name>`. */
function recipe(name: string): string {
  const doc = readFileSync(path.join(ROOT, 'docs/connect-an-app.md'), 'utf8');
  const block = [...doc.matchAll(/```nginx\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.startsWith(`# ${name}\n`));
  if (!block) throw new Error(`docs/connect-an-app.md has no nginx block "# ${name}"`);
  return block;
}

interface Cookie {
  name: string;
  value: string;
  /** The Domain attribute; undefined: the host that set it, only. */
  domain: string | undefined;
  host: string;
}

/** Cookies kept and sent as a browser does: by name, Domain (or the host that set it), deleted by an expiry in the past. */
class CookieJar {
  private cookies: Cookie[] = [];

  store(host: string, setCookie: string[] | undefined): void {
    for (const line of setCookie ?? []) {
      const [pair, ...attributes] = line.split(';').map((part) => part.trim());
      const name = pair!.slice(0, pair!.indexOf('='));
      const value = pair!.slice(pair!.indexOf('=') + 1);
      const attribute = (key: string) => attributes.find((a) => a.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
      const domain = attribute('domain')?.replace(/^\./, '').toLowerCase();
      // A browser refuses a Domain that does not contain the host setting it.
      if (domain && host !== domain && !host.endsWith(`.${domain}`)) continue;
      const expired = attribute('max-age') === '0' || Date.parse(attribute('expires') ?? '') < Date.now();
      this.cookies = this.cookies.filter((c) => !(c.name === name && c.domain === domain && (domain || c.host === host)));
      if (!expired) this.cookies.push({ name, value, domain, host });
    }
  }

  header(host: string): string | undefined {
    const sent = this.cookies.filter((c) => (c.domain ? host === c.domain || host.endsWith(`.${c.domain}`) : host === c.host));
    return sent.length ? sent.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }

  has(name: string): boolean {
    return this.cookies.some((c) => c.name === name);
  }
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe('forward auth behind nginx (auth_request)', { skip: await unmet('nginx', 'openssl') }, () => {
  let prefix: string;
  let port: number;
  let ca: string;
  let server: ServerProcess;
  let nginx: Nginx;
  let app: http.Server;
  const seen: Array<Record<string, unknown>> = [];

  /** One request through nginx to `https://<host>:<port><path>`, as a browser with `jar` sends it. */
  function browse(jar: CookieJar, method: string, host: string, urlPath: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const cookie = jar.header(host);
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port,
          method,
          path: urlPath,
          servername: host,
          ca,
          agent: false,
          headers: { host: `${host}:${port}`, ...(cookie ? { cookie } : {}), ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}), ...options.headers },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => {
            jar.store(host, res.headers['set-cookie']);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Follows an absolute URL on this nginx. */
  function follow(jar: CookieJar, location: string | undefined): Promise<Answer> {
    assert.ok(location, 'a Location');
    const url = new URL(location);
    assert.equal(url.port, String(port));
    return browse(jar, 'GET', url.hostname, url.pathname + url.search);
  }

  before(async () => {
    prefix = mkdtempSync(path.join(tmpdir(), 'gatehouse-forward-auth-'));
    mkdirSync(path.join(prefix, 'logs'));
    mkdirSync(path.join(prefix, 'snippets'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=school.test', '-addext', 'subjectAltName=DNS:*.school.test,DNS:school.test', '-keyout', path.join(prefix, 'key.pem'), '-out', path.join(prefix, 'cert.pem')], { stdio: 'ignore' });
    ca = readFileSync(path.join(prefix, 'cert.pem'), 'utf8');
    // The protected application: it answers with what nginx told it.
    app = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const echo = { method: req.method, url: req.url, body, remote_user: req.headers['remote-user'] ?? null, remote_name: req.headers['remote-name'] ?? null, remote_groups: req.headers['remote-groups'] ?? null };
        seen.push(echo);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(echo));
      });
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const appPort = (app.address() as AddressInfo).port;
    port = await freePort();
    server = await startServer({ workers: 2, env: { PUBLIC_URL: `https://id.school.test:${port}`, COOKIE_DOMAIN: 'school.test', TRUST_PROXY: '127.0.0.1' } });
    for (const args of [['--host', `app.school.test:${port}`, '--anyone'], ['--host', `staff.school.test:${port}`, '--roles', 'admin']]) {
      const set = await runCli(['forward-auth', 'set', ...args], { DATA_DIR: server.dataDir });
      assert.equal(set.code, 0, set.stderr);
    }
    // docs/connect-an-app.md's configuration, on this test's ports, certificate and names.
    const local = (text: string) =>
      text
        .replaceAll('school.cn', 'school.test')
        .replaceAll('listen 443 ssl', `listen 127.0.0.1:${port} ssl`)
        .replaceAll('/etc/ssl/school/fullchain.pem', path.join(prefix, 'cert.pem'))
        .replaceAll('/etc/ssl/school/privkey.pem', path.join(prefix, 'key.pem'))
        .replaceAll('127.0.0.1:9527', `127.0.0.1:${server.port}`)
        .replaceAll('127.0.0.1:8080', `127.0.0.1:${appPort}`)
        .replaceAll('include snippets/', `include ${prefix}/snippets/`);
    for (const snippet of ['gatehouse-auth-location.conf', 'gatehouse-auth.conf']) writeFileSync(path.join(prefix, 'snippets', snippet), local(recipe(`snippets/${snippet}`)));
    const conf = `${nginxPreamble(prefix)}
${local(recipe('conf.d/school.conf'))}
  # A second protected host (its rule admits platform administrators only), as the document's application.
  server {
    listen 127.0.0.1:${port} ssl;
    server_name staff.school.test;
    ssl_certificate ${prefix}/cert.pem;
    ssl_certificate_key ${prefix}/key.pem;
    include ${prefix}/snippets/gatehouse-auth-location.conf;
    location / {
      include ${prefix}/snippets/gatehouse-auth.conf;
      proxy_pass http://127.0.0.1:${appPort};
    }
  }
}`;
    nginx = await runNginx(prefix, port, conf, async () => (await browse(new CookieJar(), 'GET', 'id.school.test', '/healthz')).status === 200);
  });
  after(async () => {
    await nginx?.stop();
    await server?.stop();
    await new Promise((resolve) => app?.close(resolve));
  });

  it('anonymous → login page → signed in → back to the page, which receives the user\'s headers', async () => {
    const browser = new CookieJar();
    const page = `/grades?term=1&q=${encodeURIComponent('a b')}`;
    const first = await browse(browser, 'GET', 'app.school.test', page);
    assert.equal(first.status, 302, first.body);
    const login = new URL(first.headers.location!);
    assert.equal(`${login.origin}${login.pathname}`, `https://id.school.test:${port}/login`);
    const returnTo = login.searchParams.get('return_to')!;
    assert.equal(returnTo, `/authz/continue?rd=${encodeURIComponent(`https://app.school.test:${port}${page}`)}`);
    assert.equal(seen.length, 0, 'the application saw nothing');

    const loginPage = await follow(browser, first.headers.location);
    assert.equal(loginPage.status, 200);
    assert.match(String(loginPage.headers['content-type']), /text\/html/);

    // Register, then sign in, through the API as the pages do.
    const phone = '13812340001';
    const registerCaptcha = JSON.parse((await browse(browser, 'GET', 'id.school.test', '/api/auth/captcha/generate?purpose=register')).body);
    const registered = await browse(new CookieJar(), 'POST', 'id.school.test', '/api/auth/register', { body: { phone, password: PASSWORD, name: '张老师', invitation_code: server.invitationCode, captcha_id: registerCaptcha.captcha_id, captcha: 'TEST' } });
    assert.equal(registered.status, 201, registered.body);
    const loginCaptcha = JSON.parse((await browse(browser, 'GET', 'id.school.test', '/api/auth/captcha/generate?purpose=login')).body);
    const signedIn = await browse(browser, 'POST', 'id.school.test', '/api/auth/login', { body: { phone, password: PASSWORD, captcha_id: loginCaptcha.captcha_id, captcha: 'TEST' } });
    assert.equal(signedIn.status, 200, signedIn.body);
    const setCookie = signedIn.headers['set-cookie']!.find((c) => c.startsWith('__Secure-gatehouse_session='));
    assert.match(String(setCookie), /; Domain=school\.test; Path=\/; HttpOnly; Secure; SameSite=Lax/);

    // The login page goes on to return_to.
    const back = await browse(browser, 'GET', 'id.school.test', returnTo);
    assert.equal(back.status, 302, back.body);
    assert.equal(back.headers.location, `https://app.school.test:${port}${page}`);

    // The application's host receives the cookie only through its Domain; a forged Remote-User is replaced.
    const shown = await follow(browser, back.headers.location);
    assert.equal(shown.status, 200, shown.body);
    const echo = JSON.parse(shown.body);
    const database = new BetterSqlite3(path.join(server.dataDir, 'gatehouse.sqlite'), { readonly: true });
    const { subject } = database.prepare('SELECT subject FROM users WHERE phone = ?').get(`+86${phone}`) as { subject: string };
    database.close();
    assert.deepEqual(echo, { method: 'GET', url: page, body: '', remote_user: subject, remote_name: '%E5%BC%A0%E8%80%81%E5%B8%88', remote_groups: 'org:1,role:user' });
    assert.equal(decodeURIComponent(echo.remote_name), '张老师');

    const forged = JSON.parse((await browse(browser, 'POST', 'app.school.test', '/notes', { body: { text: 'hello' }, headers: { 'remote-user': 'someone-else', 'remote-groups': 'org:1,role:admin' } })).body);
    assert.deepEqual(forged, { method: 'POST', url: '/notes', body: '{"text":"hello"}', remote_user: subject, remote_name: '%E5%BC%A0%E8%80%81%E5%B8%88', remote_groups: 'org:1,role:user' });

    // The rule of staff.school.test admits platform administrators only.
    const staff = await browse(browser, 'GET', 'staff.school.test', '/');
    assert.equal(staff.status, 403);

    // Signed out at Gatehouse, the application sends the visitor to sign in again.
    const signedOut = await browse(browser, 'POST', 'id.school.test', '/api/auth/logout');
    assert.equal(signedOut.status, 204);
    assert.ok(!browser.has('__Secure-gatehouse_session'), 'the cookie was cleared on its Domain');
    const again = await browse(browser, 'GET', 'app.school.test', '/');
    assert.equal(again.status, 302);
    assert.equal(seen.length, 2);
  });

  it('a return URL to a foreign host is refused; so is one over plain http, and a host with no rule', async () => {
    const browser = new CookieJar();
    for (const rd of ['https://evil.example/', `https://app.school.test:${port}@evil.example/`, `http://app.school.test:${port}/`, `https://wiki.school.test:${port}/`]) {
      const res = await browse(browser, 'GET', 'id.school.test', `/authz/continue?${new URLSearchParams({ rd })}`);
      assert.equal(res.status, 400, rd);
      assert.equal(JSON.parse(res.body).error.code, 'RETURN_URL_NOT_ALLOWED', rd);
      assert.equal(res.headers.location, undefined);
    }
    // An unknown host name on nginx's port is closed by the default server, never served as the application.
    await assert.rejects(browse(browser, 'GET', 'wiki.school.test', '/'));
  });
});
