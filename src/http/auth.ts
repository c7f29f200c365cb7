// Session authentication: reads the session cookie and attaches the signed-in user to the request.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccountService } from '../accounts/service.js';
import type { SessionRow, UserRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { SessionService } from '../sessions/service.js';
import type { ApiKeyScope, ApiKeyService, ApiKeyView } from '../apikeys/service.js';
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

export function createSessionGuard(deps: { sessions: SessionService; accounts: AccountService; cookieName: string }) {
  /** preHandler: 401 UNAUTHENTICATED unless the request carries a live session of an active user. */
  return async function requireSession(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const token = request.cookies[deps.cookieName];
    const session = token ? await deps.sessions.authenticate(token) : null;
    const user = session ? await deps.accounts.findById(session.user_id) : undefined;
    if (!session || !user) throw new AppError('UNAUTHENTICATED');
    if (user.status !== 'active') throw new AppError('ACCOUNT_DISABLED');
    request.auth = { user, session };
  };
}

export type SessionGuard = ReturnType<typeof createSessionGuard>;

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: ApiKeyView | null;
  }
}

/** The API key in `Authorization: Bearer …`, or undefined when the header is absent. */
function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : '';
}

export function createApiKeyGuards(deps: { apiKeys: ApiKeyService; rateLimits: RateLimits; requireSession: SessionGuard; adminRequiresTwoFactor?: boolean }) {
  async function authenticateKey(request: FastifyRequest, presented: string): Promise<ApiKeyView> {
    const key = presented ? await deps.apiKeys.authenticate(presented) : null;
    if (!key) throw new AppError('INVALID_API_KEY');
    await deps.rateLimits.enforce(deps.rateLimits.apiKey, key.prefix);
    request.apiKey = key;
    return key;
  }

  /** preHandler: an API key with `scope` (401 INVALID_API_KEY without a live key, 403 FORBIDDEN without the scope). */
  function requireScope(scope: ApiKeyScope) {
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

/** Who did it, for the audit log. */
export function actorOf(request: FastifyRequest): string | null {
  if (request.apiKey) return `apikey:${request.apiKey.prefix}`;
  if (request.auth) return `user:${request.auth.user.id}`;
  return null;
}
