// Every route the OpenAPI document lists — so a route added later is covered without touching this
// file — gets odd path parameters, query parameters, body fields, credentials and content types.
// Each answer must be below 500, carry the request id and security headers, and every 4xx must carry
// a catalogued code with that code's status.
// Afterwards an account nobody addressed is unchanged: bad input loses or corrupts nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { ERROR_CATALOGUE } from '../../src/errors.js';
import { adminSession, createApiKey, createTestApp, login, register, type TestApp } from '../helpers/app.js';
import { ODD_NUMBERS, ODD_PATH_PARAMETERS, ODD_STRINGS, WRONG_TYPES } from '../helpers/odd-input.js';

interface Operation {
  method: string;
  path: string;
  pathParameters: string[];
  queryParameters: string[];
  headerParameters: string[];
  body: Record<string, unknown> | undefined;
}

type JsonSchema = { type?: string; anyOf?: JsonSchema[]; enum?: unknown[]; const?: unknown; format?: string; minLength?: number; minimum?: number; items?: JsonSchema; properties?: Record<string, JsonSchema> };

/** A value of the schema's shape; not always one the route accepts (a name may be taken), which is fine here. */
function sampleOf(schema: JsonSchema | undefined): unknown {
  if (!schema) return 'x';
  if (schema.anyOf) return sampleOf(schema.anyOf[0]);
  if (schema.enum) return schema.enum[0];
  if (schema.const !== undefined) return schema.const;
  switch (schema.type) {
    case 'string':
      return schema.format === 'date-time' ? new Date().toISOString() : 'x'.repeat(Math.max(1, schema.minLength ?? 1));
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'array':
      return [sampleOf(schema.items)];
    default:
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([name, property]) => [name, sampleOf(property)]));
  }
}

function operationsOf(document: { paths: Record<string, Record<string, any>> }): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const parameters: { in: string; name: string }[] = operation.parameters ?? [];
      const named = (where: string) => parameters.filter((p) => p.in === where).map((p) => p.name);
      const bodySchema = operation.requestBody?.content?.['application/json']?.schema as JsonSchema | undefined;
      operations.push({
        method: method.toUpperCase(),
        path,
        pathParameters: named('path'),
        queryParameters: named('query'),
        headerParameters: named('header'),
        body: bodySchema ? (sampleOf(bodySchema) as Record<string, unknown>) : undefined,
      });
    }
  }
  return operations;
}

/** The operation's path with these path parameters, and a number that names nothing for the others. */
function urlOf(op: Operation, values: Record<string, string> = {}): string {
  return op.path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? '424242');
}

function queryString(name: string, value: string): string {
  // A lone surrogate cannot be %-encoded; send the bytes a client that tried would send.
  const encoded = value.isWellFormed() ? encodeURIComponent(value) : '%ED%A0%80';
  return `?${name}=${encoded}`;
}

describe('every route of the API, with bad input', () => {
  let t: TestApp;
  let operations: Operation[];
  let admin: { cookie: string };
  let apiKey: string;
  const bystander = { phone: '', password: 'bystander password 1' };
  const failures: string[] = [];
  let requests = 0;

  before(async () => {
    t = await createTestApp();
    admin = await adminSession(t);
    apiKey = (await createApiKey(t, admin.cookie, ['tasks:write', 'tasks:read'])).key;
    operations = operationsOf((await t.app.inject({ method: 'GET', url: '/docs/json' })).json());
    const registered = await register(t, { password: bystander.password });
    assert.equal(registered.statusCode, 201);
    bystander.phone = registered.json().user.phone;
  });
  after(() => t.close());

  function credentials(path: string): Record<string, string> {
    return path.startsWith('/api/tasks') ? { authorization: `Bearer ${apiKey}` } : { cookie: admin.cookie };
  }

  async function send(options: InjectOptions, label: string): Promise<void> {
    requests++;
    const res = await t.app.inject(options);
    const where = `${options.method} ${String(options.url).slice(0, 80)} (${label})`;
    // Every answer, however early it was refused, carries the request id and the security headers.
    if (!res.headers['x-request-id'] || res.headers['x-content-type-options'] !== 'nosniff') failures.push(`${where}: ${res.statusCode} without the common headers`);
    if (res.statusCode >= 500) {
      failures.push(`${where}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    } else if (res.statusCode >= 400) {
      let code: string | undefined;
      try {
        code = res.json().error?.code;
      } catch {
        // Not JSON: reported below as an answer without a code.
      }
      if (!code || !(code in ERROR_CATALOGUE)) failures.push(`${where}: ${res.statusCode} without a catalogued code: ${res.body.slice(0, 200)}`);
      else if (ERROR_CATALOGUE[code as keyof typeof ERROR_CATALOGUE].status !== res.statusCode) failures.push(`${where}: ${code} sent with status ${res.statusCode}`);
    }
    // A route that ended the administrator's session (sign-out, deletion): go on with a new one.
    if (res.statusCode === 401 && options.headers?.cookie === admin.cookie) admin = await adminSession(t);
  }

  function reportFailures() {
    const found = [...new Set(failures.splice(0))];
    assert.deepEqual(found, [], `${found.length} bad answers`);
  }

  it('lists the routes it tests', () => {
    assert.ok(operations.length >= 50, `only ${operations.length} operations in the OpenAPI document`);
    assert.ok(operations.some((o) => o.path === '/api/admin/users/{id}' && o.method === 'PATCH'));
  });

  it('path and query parameters', async () => {
    for (const op of operations) {
      for (const name of op.pathParameters) {
        for (const value of ODD_PATH_PARAMETERS) await send({ method: op.method as 'GET', url: urlOf(op, { [name]: value }), headers: credentials(op.path), payload: op.body }, `${name}=${value.slice(0, 20)}`);
      }
      for (const name of op.queryParameters) {
        for (const value of [...ODD_STRINGS, ...ODD_NUMBERS]) {
          await send({ method: op.method as 'GET', url: urlOf(op) + queryString(name, value), headers: credentials(op.path), payload: op.body }, `?${name}=${JSON.stringify(value).slice(0, 20)}`);
        }
      }
    }
    reportFailures();
    // The router refuses a malformed %-escape before any hook runs; the answer is counted all the same.
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    const refused = /gatehouse_http_requests_total\{method="DELETE",route="unmatched",status="400"\} (\d+)/.exec(metrics);
    assert.ok(refused && Number(refused[1]) > 0, 'refused URLs are counted in gatehouse_http_requests_total');
  });

  it('body fields of the wrong type, odd strings and broken bodies', async () => {
    for (const op of operations) {
      const url = urlOf(op);
      const headers = credentials(op.path);
      if (op.body) {
        for (const field of Object.keys(op.body)) {
          for (const value of [...WRONG_TYPES, ...ODD_STRINGS, ...ODD_NUMBERS]) {
            await send({ method: op.method as 'POST', url, headers, payload: { ...op.body, [field]: value } as Record<string, unknown> }, `${field}=${JSON.stringify(value).slice(0, 20)}`);
          }
        }
      }
      if (op.method === 'GET') continue;
      for (const raw of ['{"a":', '[]', 'null', '"text"', '1', '{"__proto__":{"admin":true}}', '{"a":1}']) {
        await send({ method: op.method as 'POST', url, headers: { ...headers, 'content-type': 'application/json' }, payload: raw }, `body ${raw}`);
      }
      for (const contentType of ['application/json; charset=utf-16', 'application/json-patch+json', 'multipart/form-data; boundary=x', 'application/octet-stream', 'text/csv']) {
        await send({ method: op.method as 'POST', url, headers: { ...headers, 'content-type': contentType }, payload: '{"a":1}' }, contentType);
      }
      for (const name of op.headerParameters) {
        for (const value of ['', ' ', 'x'.repeat(10_000), "' OR 1=1 --", '../../etc/passwd']) {
          await send({ method: op.method as 'POST', url, headers: { ...headers, [name]: value }, payload: op.body }, `${name}: ${value.slice(0, 20)}`);
        }
      }
    }
    reportFailures();
  });

  it('odd credentials, cookies and forwarded addresses', async () => {
    const token = admin.cookie.split('=')[1]!;
    const authorizations = ['', 'Bearer', 'Bearer ', 'Bearer x', `Bearer ${apiKey}x`, `Bearer ${apiKey.slice(0, -1)}`, `bearer ${apiKey}`, 'Basic YTpi', `Bearer ${'a'.repeat(8000)}`, 'Bearer gth_', `Bearer ${apiKey} ${apiKey}`];
    const cookies = ['gatehouse_session=', 'gatehouse_session=x', `gatehouse_session=${'a'.repeat(4000)}`, 'gatehouse_session=%ff', 'gatehouse_session="abc', `gatehouse_session=${token}x`, `gatehouse_session=${token.split('.')[0]}`, 'gatehouse_session=a.b.c', ';;;', '='];
    for (const op of operations) {
      const url = urlOf(op);
      const payload = op.method === 'GET' ? undefined : (op.body ?? {});
      for (const authorization of authorizations) await send({ method: op.method as 'GET', url, headers: { authorization }, payload }, `authorization: ${authorization.slice(0, 30)}`);
      for (const cookie of cookies) await send({ method: op.method as 'GET', url, headers: { cookie }, payload }, `cookie: ${cookie.slice(0, 30)}`);
      for (const forwarded of ['x', '1.2.3.4, x', '999.1.1.1', 'a'.repeat(5000)]) {
        await send({ method: op.method as 'GET', url, headers: { ...credentials(op.path), 'x-forwarded-for': forwarded }, payload }, `x-forwarded-for: ${forwarded.slice(0, 20)}`);
      }
    }
    reportFailures();
  });

  it('left an account nobody addressed as it was', async () => {
    assert.ok(requests > 3000, `only ${requests} requests were sent`);
    const res = await login(t, bystander.phone, bystander.password);
    assert.equal(res.statusCode, 200, res.body);
  });
});
