// The single error boundary: every failure leaves as {"error":{"code","message"}} with a stable code.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isStoreOutage } from '../db/store-errors.js';
import { AppError, ERROR_CATALOGUE, type ErrorCode } from '../errors.js';
import { urlForLog } from '../observability/logger.js';

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
};

export function toAppError(error: FastifyError | Error): AppError {
  if (error instanceof AppError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const first = fastifyError.validation[0];
    const field = first ? `${fastifyError.validationContext ?? 'body'}${first.instancePath || ''}` : undefined;
    return new AppError('VALIDATION_FAILED', {
      message: fastifyError.message,
      details: field ? { field: field.replace(/\//g, '.') } : {},
    });
  }
  // A database that cannot be reached, or whose disk is full, is a 503 wherever the query was made.
  if (isStoreOutage(error)) return new AppError('STORE_UNAVAILABLE', { retryAfterSeconds: 1, cause: error });
  if (SyntaxError.prototype.isPrototypeOf(error) && (fastifyError.statusCode ?? 400) < 500) return new AppError('INVALID_JSON');
  const mapped = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (mapped) return new AppError(mapped);
  const status = fastifyError.statusCode ?? 500;
  if (status === 413) return new AppError('BODY_TOO_LARGE');
  if (status === 415) return new AppError('UNSUPPORTED_MEDIA_TYPE');
  if (status >= 400 && status < 500) return new AppError('VALIDATION_FAILED', { message: fastifyError.message });
  return new AppError('INTERNAL_ERROR', { cause: error });
}

export function sendError(reply: FastifyReply, error: AppError): FastifyReply {
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  return reply.code(error.status).send({ error: { ...error.details, code: error.code, message: error.message } });
}

/**
 * Fastify's router refuses some URLs before any route or hook runs (a malformed %-escape, a path
 * part longer than maxParamLength) and would answer in its own shape; these answer in the API's.
 * No hook runs for them: the caller adds the headers that hooks give every other answer.
 */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  request.log.info({ method: request.method, url: urlForLog(request.url).slice(0, 200), code: error.code }, 'URL refused by the router');
  const message =
    error.code === 'FST_ERR_BAD_URL'
      ? 'The URL is not valid: it holds a malformed %-escape.'
      : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? 'The URL is not valid: a part of its path is too long.'
        : undefined;
  return sendError(reply, message ? new AppError('VALIDATION_FAILED', { message }) : toAppError(error));
}

const CLIENT_ERRORS: Record<string, ErrorCode> = {
  ERR_HTTP_REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  HPE_HEADER_OVERFLOW: 'HEADERS_TOO_LARGE',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'BODY_TOO_LARGE',
};

/**
 * What Node's HTTP parser cannot read as a request (not HTTP, headers past the size limit, a request
 * that took longer than requestTimeout to arrive) never reaches Fastify's routing: the answer is
 * written to the socket here, in the API's shape, and the connection closed.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket, log: FastifyBaseLogger): void {
  // A reset connection is gone: nothing to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const appError = new AppError((error.code && CLIENT_ERRORS[error.code]) || 'MALFORMED_REQUEST');
  log.debug({ code: error.code, remoteAddress: socket.remoteAddress }, 'unreadable request refused');
  // Node's own handler writes only where no answer has begun on this connection (an earlier
  // request's, when a pipelined one after it is malformed): bytes written there would corrupt it.
  const answering = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !answering?.headersSent) {
    const body = JSON.stringify({ error: { code: appError.code, message: appError.message } });
    socket.write(
      `HTTP/1.1 ${appError.status} ${STATUS_CODES[appError.status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

export function installErrorBoundary(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const appError = toAppError(error);
    if (appError.status >= 500) {
      request.log.error({ err: appError.code === 'INTERNAL_ERROR' ? error : appError.cause ?? appError, code: appError.code }, 'request failed');
    }
    return sendError(reply, appError);
  });
  app.setNotFoundHandler((request, reply) => {
    return sendError(reply, new AppError('NOT_FOUND', { message: `No route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}.` }));
  });
}

export const ALL_ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];
