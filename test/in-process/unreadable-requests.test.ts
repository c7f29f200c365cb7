// What Node's HTTP parser cannot read as a request never reaches a route. It still gets an answer in
// the API's shape with a catalogued code, and the connection is closed: a client on a broken proxy,
// or one probing the server, learns what happened and holds nothing open.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ERROR_CATALOGUE } from '../../src/errors.js';
import { answerClientError } from '../../src/http/error-responses.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

/** Writes raw bytes, then reads until the server closes the connection (or 5 s pass). */
function exchange(port: number, bytes: string): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closedByServer: false });
    }, 5_000);
    socket.on('data', (chunk) => (text += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedByServer: true });
    });
    socket.write(bytes);
  });
}

function lastAnswer(text: string): { status: number; code: string; message: string } {
  const start = text.lastIndexOf('HTTP/1.1 ');
  const status = Number(text.slice(start + 9, start + 12));
  const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n', start) + 4));
  return { status, code: body.error.code, message: body.error.message };
}

describe('requests the HTTP parser cannot read', () => {
  let t: TestApp;
  let port: number;
  before(async () => {
    t = await createTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as net.AddressInfo).port;
  });
  after(() => t.close());

  const cases: [string, string, keyof typeof ERROR_CATALOGUE][] = [
    ['not HTTP at all', 'GARBAGE\r\n\r\n', 'MALFORMED_REQUEST'],
    ['an unknown HTTP version', 'GET / HTTP/9.9\r\nHost: x\r\n\r\n', 'MALFORMED_REQUEST'],
    ['a control character in the path', 'GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n', 'MALFORMED_REQUEST'],
    ['Content-Length with Transfer-Encoding (request smuggling)', 'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'MALFORMED_REQUEST'],
    ['headers over the size limit', `GET / HTTP/1.1\r\nHost: x\r\nCookie: ${'a'.repeat(20_000)}\r\n\r\n`, 'HEADERS_TOO_LARGE'],
  ];
  for (const [label, bytes, expected] of cases) {
    it(`${label}: ${expected} in the API's shape, and the connection closed`, async () => {
      const { text, closedByServer } = await exchange(port, bytes);
      assert.ok(closedByServer, 'the server closed the connection');
      const answer = lastAnswer(text);
      assert.equal(answer.code, expected, text);
      assert.equal(answer.status, ERROR_CATALOGUE[expected].status);
      assert.equal(answer.message, ERROR_CATALOGUE[expected].message);
      assert.match(text, /\r\nConnection: close\r\n/i);
    });
  }

  it('a request that took too long to arrive answers REQUEST_TIMEOUT (408)', () => {
    // Node raises it after requestTimeout (30 s) on its own schedule; the answer is written the same way.
    const written: string[] = [];
    let destroyed = false;
    const socket = { destroyed: false, writable: true, write: (s: string) => written.push(s), destroy: () => (destroyed = true) } as unknown as net.Socket;
    answerClientError(Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), socket, t.app.log);
    assert.ok(destroyed);
    assert.match(written.join(''), /^HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*"code":"REQUEST_TIMEOUT"/);
  });

  it('the service goes on answering', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(res.status, 200);
  });
});
