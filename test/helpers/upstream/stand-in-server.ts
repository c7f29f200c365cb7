// The plumbing the upstream stand-ins share: a node:http server on a free loopback port, GET routes by
// path, a clock tests can move (codes expire), a count of calls per path, and an outage switch — answer
// normally, never answer (for timeouts), or answer HTTP 502 — so a test can take the provider down.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Outage = 'none' | 'hang' | 'http-502';

export type Route = (query: URLSearchParams, response: ServerResponse, request: IncomingMessage) => void;

export interface StandInServer {
  /** http://127.0.0.1:PORT — both the authorize base and the API base of the stand-in. */
  readonly url: string;
  /** Milliseconds on the stand-in's clock; starts at the real time. */
  now(): number;
  /** Moves the stand-in's clock forward (codes and tokens expire by it). */
  advance(ms: number): void;
  /** How many requests reached each path. */
  calls(path: string): number;
  setOutage(outage: Outage): void;
  close(): Promise<void>;
}

export function sendJson(response: ServerResponse, body: unknown, status = 200): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
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
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://stand-in');
    counts.set(url.pathname, (counts.get(url.pathname) ?? 0) + 1);
    if (outage === 'hang') return; // the socket stays open until close(): the client's timeout must end it
    if (outage === 'http-502') return sendPage(response, 502, 'Bad Gateway');
    const route = request.method === 'GET' ? routes[url.pathname] : undefined;
    if (!route) return sendPage(response, 404, 'not found');
    route(url.searchParams, response, request);
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
    setOutage(next) {
      outage = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
