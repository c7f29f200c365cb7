// pino options shared by every process: JSON lines, secrets redacted wherever they could appear.
import type { IncomingMessage } from 'node:http';
import type { LoggerOptions } from 'pino';

export const REDACTED_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.password_hash',
  '*.captcha',
  '*.token',
  '*.secret',
  '*.code',
];

/**
 * A URL as logs may show it: the path, and of the query only the parameter names. Query values are
 * what people type — a phone number to look up (`?phone=`), a search (`?q=`) — and a log must not
 * hold a whole phone number.
 */
export function urlForLog(url: string): string {
  const question = url.indexOf('?');
  if (question === -1) return url;
  const names = url
    .slice(question + 1)
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const equals = pair.indexOf('=');
      return equals === -1 ? pair : `${pair.slice(0, equals)}=${QUERY_VALUE_CENSOR}`;
    });
  return `${url.slice(0, question)}?${names.join('&')}`;
}

const QUERY_VALUE_CENSOR = '[redacted]';

/** A request as Fastify logs it, with the query's values redacted (replaces Fastify's own `req` serializer). */
type LoggedRequest = Pick<IncomingMessage, 'method' | 'url' | 'headers' | 'socket'> & { host?: string; ip?: string };

function requestForLog(req: LoggedRequest) {
  return {
    method: req.method,
    url: urlForLog(req.url ?? ''),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

export function loggerOptions(level: string, base: Record<string, unknown> = {}): LoggerOptions {
  return {
    level,
    base: { service: 'gatehouse', ...base },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { req: requestForLog },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
  };
}
