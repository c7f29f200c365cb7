// Who is asking: the session cookie or the API key of a request, resolved to a principal. The HTTP layer
// knows no feature: the composition root (app.ts) gives it a CredentialResolver built from the session,
// account and API-key services.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SessionRow, UserRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { Principal } from '../principal.js';
import type { RateLimits } from '../security/rate-limits.js';

export interface AuthContext {
  user: UserRow;
  session: SessionRow;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null;
  }
}

/** A live API key: which one (its visible prefix) and what it may do. */
export interface KeyHolder {
  prefix: string;
  scopes: readonly string[];
}

/** Resolves a presented credential to who holds it; null for one that is unknown, expired or revoked. */
export interface CredentialResolver {
  /** The live session a session token names, with its account (whatever the account's status). */
  session(token: string): Promise<AuthContext | null>;
  /** The live API key a presented key is. */
  apiKey(presented: string): Promise<KeyHolder | null>;
}

export function createSessionGuard(deps: { credentials: Pick<CredentialResolver, 'session'>; cookieName: string }) {
  /** preHandler: 401 UNAUTHENTICATED unless the request carries a live session of an active user. */
  return async function requireSession(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const token = request.cookies[deps.cookieName];
    const auth = token ? await deps.credentials.session(token) : null;
    if (!auth) throw new AppError('UNAUTHENTICATED');
    if (auth.user.status !== 'active') throw new AppError('ACCOUNT_DISABLED');
    request.auth = auth;
  };
}

export type SessionGuard = ReturnType<typeof createSessionGuard>;

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: KeyHolder | null;
  }
}

/** The API key in `Authorization: Bearer …`, or undefined when the header is absent. */
function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : '';
}

export function createApiKeyGuards(deps: { credentials: Pick<CredentialResolver, 'apiKey'>; rateLimits: RateLimits; requireSession: SessionGuard; adminRequiresTwoFactor?: boolean }) {
  async function authenticateKey(request: FastifyRequest, presented: string): Promise<KeyHolder> {
    const key = presented ? await deps.credentials.apiKey(presented) : null;
    if (!key) throw new AppError('INVALID_API_KEY');
    await deps.rateLimits.enforce(deps.rateLimits.apiKey, key.prefix);
    request.apiKey = key;
    return key;
  }

  /** preHandler: an API key with `scope` (401 INVALID_API_KEY without a live key, 403 FORBIDDEN without the scope). */
  function requireScope(scope: string) {
    return async function requireApiKeyScope(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
      const key = await authenticateKey(request, bearer(request) ?? '');
      if (!key.scopes.includes(scope) && !key.scopes.includes('admin')) throw new AppError('FORBIDDEN', { message: `This API key lacks the ${scope} scope.` });
    };
  }

  /** preHandler: an admin's session, or an API key with the admin scope. */
  async function requireAdmin(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const presented = bearer(request);
    if (presented !== undefined) {
      const key = await authenticateKey(request, presented);
      if (!key.scopes.includes('admin')) throw new AppError('FORBIDDEN', { message: 'This API key lacks the admin scope.' });
      return;
    }
    await deps.requireSession(request, reply);
    const user = request.auth!.user;
    if (user.role !== 'admin') throw new AppError('FORBIDDEN');
    if (deps.adminRequiresTwoFactor && user.totp_enabled_at === null) throw new AppError('TWO_FACTOR_SETUP_REQUIRED');
  }

  return { requireScope, requireAdmin };
}

export type ApiKeyGuards = ReturnType<typeof createApiKeyGuards>;

/** Who is asking, once a guard has let the request through (401 UNAUTHENTICATED before). */
export function principalOf(request: FastifyRequest): Principal {
  if (request.apiKey) return { kind: 'apikey', prefix: request.apiKey.prefix, ip: request.ip };
  if (request.auth) return { kind: 'user', userId: request.auth.user.id, ip: request.ip };
  throw new AppError('UNAUTHENTICATED');
}

/** Who did it, for the audit log; null when nobody is signed in. */
export function actorOf(request: FastifyRequest): string | null {
  if (request.apiKey) return `apikey:${request.apiKey.prefix}`;
  if (request.auth) return `user:${request.auth.user.id}`;
  return null;
}
