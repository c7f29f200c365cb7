// What every provider stand-in shares: a node:http server on a loopback port, single-use short-lived
// codes, and switches that make the provider refuse, hang or vanish the way real ones do.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInUser {
  name: string;
  unionId: string;
  openId: string;
  avatarUrl: string;
}

interface IssuedCode {
  user: StandInUser;
  redirectUri: string;
  expiresAt: number;
}

export type Handler = (req: IncomingMessage, url: URL, body: string, res: ServerResponse) => void;

export class StandIn {
  /** Who the authorize page signs in (the user "scanned the QR code"). */
  user: StandInUser;
  /** The authorize page answers as if the user pressed cancel. */
  deny = false;
  /** Requests are held unanswered (a provider that hangs): only a client-side timeout ends them. */
  slow = false;
  /** Answers the next request to a path with this instead (a documented error envelope), once. */
  answerNext: { path: string; status: number; body: unknown } | null = null;
  /** Every request the API endpoints saw, for asserting what Gatehouse sent. */
  readonly requests: Array<{ method: string; path: string; headers: IncomingMessage['headers']; body: string }> = [];
  private readonly codes = new Map<string, IssuedCode>();
  private readonly held = new Set<ServerResponse>();
  private server = createServer((req, res) => this.dispatch(req, res));
  private port = 0;

  constructor(private readonly routes: Record<string, Handler>, user: StandInUser, readonly codeLifetimeMs = 5 * 60_000) {
    this.user = user;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** The provider goes away: connections to its port are refused until `listen()` again (same port). */
  async down(): Promise<void> {
    this.release();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
    this.server = createServer((req, res) => this.dispatch(req, res));
  }

  async close(): Promise<void> {
    this.release();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /** Issues a code for the configured user, as the authorize page does after the user agrees. */
  issueCode(redirectUri: string): string {
    const code = randomBytes(12).toString('hex');
    this.codes.set(code, { user: { ...this.user }, redirectUri, expiresAt: Date.now() + this.codeLifetimeMs });
    return code;
  }

  /** Ages every issued code past its lifetime (instead of waiting for it). */
  expireCodes(): void {
    for (const code of this.codes.values()) code.expiresAt = 0;
  }

  /** Redeems a code once: 'unknown' when never issued or already used, 'expired' when too old. */
  redeem(code: string | undefined): IssuedCode | 'unknown' | 'expired' {
    const issued = code ? this.codes.get(code) : undefined;
    if (!issued) return 'unknown';
    this.codes.delete(code!);
    return issued.expiresAt <= Date.now() ? 'expired' : issued;
  }

  private release(): void {
    for (const res of this.held) res.destroy();
    this.held.clear();
  }

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', this.url);
      if (this.slow) {
        this.held.add(res);
        res.on('close', () => this.held.delete(res));
        return;
      }
      if (this.answerNext?.path === url.pathname) {
        const { status, body: answer } = this.answerNext;
        this.answerNext = null;
        return json(res, status, answer);
      }
      const route = this.routes[`${req.method} ${url.pathname}`];
      if (!route) return json(res, 404, { code: 'NotFound', message: `no route ${req.method} ${url.pathname}` });
      this.requests.push({ method: req.method!, path: url.pathname, headers: req.headers, body });
      route(req, url, body, res);
    });
  }
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' }).end(JSON.stringify(body));
}

export function redirect(res: ServerResponse, to: string, params: Record<string, string>): void {
  const target = new URL(to);
  for (const [key, value] of Object.entries(params)) target.searchParams.set(key, value);
  res.writeHead(302, { location: target.toString() }).end();
}

export function parseJson(body: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(body) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
