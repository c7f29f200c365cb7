// The plumbing the upstream stand-ins share: a node:http server on a free loopback port, GET routes by
// path (other methods as "POST /path", with the request body), a clock tests can move (codes expire), a
// count of calls and the last request per path, a one-off answer for a path (a documented error
// envelope), and an outage switch — answer normally, never answer (for timeouts), or answer HTTP 502.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Outage = 'none' | 'hang' | 'http-502';

export type Route = (query: URLSearchParams, response: ServerResponse, request: IncomingMessage, body: string) => void;

export interface StandInServer {
  /** http://127.0.0.1:PORT — both the authorize base and the API base of the stand-in. */
  readonly url: string;
  /** Milliseconds on the stand-in's clock; starts at the real time. */
  now(): number;
  /** Moves the stand-in's clock forward (codes and tokens expire by it). */
  advance(ms: number): void;
  /** How many requests reached each path. */
  calls(path: string): number;
  /** The last request that reached a path: its headers and body (what the adapter sent). */
  lastRequest(path: string): { headers: IncomingMessage['headers']; body: string } | undefined;
  /** The next request to `path` gets this answer instead of the route's, once. */
  answerNext(path: string, status: number, body: unknown): void;
  setOutage(outage: Outage): void;
  close(): Promise<void>;
}

export function sendJson(response: ServerResponse, body: unknown, status = 200): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

/** A JSON request body as an object; anything unreadable is an empty object (the route then refuses it). */
export function parseJson(body: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(body) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Tencent's error shape: HTTP 200 with errcode and errmsg (the reason clients must read the body). */
export function sendErrcode(response: ServerResponse, errcode: number, errmsg: string): void {
  sendJson(response, { errcode, errmsg: `${errmsg}, hint: [stand-in]` });
}

/** The browser's way back to the app: a 302 to redirect_uri with the given parameters added. */
export function redirectBack(response: ServerResponse, redirectUri: string, params: Record<string, string | null>): void {
  const target = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== null) target.searchParams.set(name, value);
  response.writeHead(302, { location: target.toString() });
  response.end();
}

export function sendPage(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  response.end(`<!doctype html><html lang="zh-CN"><title>stand-in</title><p>${text}</p></html>`);
}

export async function startStandInServer(routes: Record<string, Route>): Promise<StandInServer> {
  let offset = 0;
  let outage: Outage = 'none';
  const counts = new Map<string, number>();
  const last = new Map<string, { headers: IncomingMessage['headers']; body: string }>();
  const nextAnswers = new Map<string, { status: number; body: unknown }>();
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://stand-in');
    counts.set(url.pathname, (counts.get(url.pathname) ?? 0) + 1);
    if (outage === 'hang') return; // the socket stays open until close(): the client's timeout must end it
    if (outage === 'http-502') return sendPage(response, 502, 'Bad Gateway');
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      last.set(url.pathname, { headers: request.headers, body });
      const instead = nextAnswers.get(url.pathname);
      if (instead) {
        nextAnswers.delete(url.pathname);
        return sendJson(response, instead.body, instead.status);
      }
      const route = routes[request.method === 'GET' ? url.pathname : `${request.method} ${url.pathname}`];
      if (!route) return sendPage(response, 404, 'not found');
      route(url.searchParams, response, request, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    now: () => Date.now() + offset,
    advance(ms) {
      offset += ms;
    },
    calls: (path) => counts.get(path) ?? 0,
    lastRequest: (path) => last.get(path),
    answerNext(path, status, body) {
      nextAnswers.set(path, { status, body });
    },
    setOutage(next) {
      outage = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
