// Who is asking: the session cookie or the API key of a request, resolved to a principal. The HTTP layer
// knows no feature: the composition root (app.ts) gives it a CredentialResolver built from the session,
// account and API-key services.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role, SessionRow, UserRow } from '../db/schema.js';
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

/** When the session's holder last proved anything (a sign-in or a re-authentication), ms; null for a session made before sessions recorded it. */
export function latestProofAt(session: Pick<SessionRow, 'password_at' | 'sms_at' | 'second_factor_at' | 'federated_at' | 'passkey_at'>): number | null {
  const times = [session.password_at, session.sms_at, session.second_factor_at, session.federated_at, session.passkey_at].filter((at): at is number => at !== null);
  return times.length === 0 ? null : Math.max(...times);
}

export function createRecentAuthenticationGuard(deps: { maxAgeSeconds: number; now?: () => number }) {
  const now = deps.now ?? Date.now;
  /**
   * preHandler, after a session or admin guard: a sensitive action needs a holder who proved
   * themselves within the last maxAgeSeconds (401 REAUTHENTICATION_REQUIRED otherwise, and
   * POST /api/auth/reauth renews it), so that a session left open on a shared computer, or a stolen
   * cookie, cannot mint API keys, promote accounts or turn off a second factor. An API key is a
   * program's credential, with nothing to re-enter: it is not asked.
   */
  return async function requireRecentAuthentication(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    if (request.apiKey) return;
    if (!request.auth) throw new AppError('UNAUTHENTICATED');
    const at = latestProofAt(request.auth.session);
    if (at === null || now() - at > deps.maxAgeSeconds * 1000) throw new AppError('REAUTHENTICATION_REQUIRED', { details: { max_age_seconds: deps.maxAgeSeconds } });
  };
}

export type RecentAuthenticationGuard = ReturnType<typeof createRecentAuthenticationGuard>;

export interface ApiKeyGuardDeps {
  credentials: Pick<CredentialResolver, 'apiKey'>;
  rateLimits: RateLimits;
  requireSession: SessionGuard;
  adminRequiresTwoFactor: boolean;
  requireRecentAuthentication: RecentAuthenticationGuard;
  /** Whether the account has a passkey: a second factor it has set up, besides the authenticator app. */
  hasPasskey?: (userId: number) => Promise<boolean>;
}

/** Whether the session passed a second factor the account still has: a code from the authenticator app, or a passkey whose authenticator verified its user. */
export function passedSecondFactor(user: Pick<UserRow, 'totp_enabled_at'>, session: Pick<SessionRow, 'second_factor_at' | 'passkey_verified_at'>): boolean {
  return (user.totp_enabled_at !== null && session.second_factor_at !== null) || session.passkey_verified_at !== null;
}

export function createApiKeyGuards(deps: ApiKeyGuardDeps) {
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

  /** A preHandler admitting an API key with the admin scope, or the session of an account with one of `roles` (with a second factor when required). */
  function adminGuard(roles: readonly Role[]) {
    return async function guard(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const presented = bearer(request);
      if (presented !== undefined) {
        const key = await authenticateKey(request, presented);
        if (!key.scopes.includes('admin')) throw new AppError('FORBIDDEN', { message: 'This API key lacks the admin scope.' });
        return;
      }
      await deps.requireSession(request, reply);
      const { user, session } = request.auth!;
      if (!roles.includes(user.role)) throw new AppError('FORBIDDEN');
      if (deps.adminRequiresTwoFactor && !passedSecondFactor(user, session)) {
        // An administrator with a passkey has a second factor set up, even without the authenticator app: they sign in with it.
        const hasSecondFactor = user.totp_enabled_at !== null || ((await deps.hasPasskey?.(user.id)) ?? false);
        throw new AppError(hasSecondFactor ? 'SECOND_FACTOR_REQUIRED' : 'TWO_FACTOR_SETUP_REQUIRED');
      }
    };
  }

  /** preHandler: a platform administrator's session, or an API key with the admin scope. */
  const requireAdmin = adminGuard(['admin']);
  /**
   * preHandler for the routes an organization administrator may use too: theirs is admitted, and the
   * action then confines it to its own organization (src/admin/scope.ts). Routes opt in one by one.
   */
  const requireOrganizationAdmin = adminGuard(['admin', 'org_admin']);

  return { requireScope, requireAdmin, requireOrganizationAdmin, requireRecentAuthentication: deps.requireRecentAuthentication };
}

export type ApiKeyGuards = ReturnType<typeof createApiKeyGuards>;

/** Who is asking, once a guard has let the request through (401 UNAUTHENTICATED before). */
export function principalOf(request: FastifyRequest): Principal {
  if (request.apiKey) return { kind: 'apikey', prefix: request.apiKey.prefix, ip: request.ip };
  if (request.auth) return { kind: 'user', userId: request.auth.user.id, role: request.auth.user.role, organizationId: request.auth.user.organization_id, ip: request.ip };
  throw new AppError('UNAUTHENTICATED');
}

/** Who did it, for the audit log; null when nobody is signed in. */
export function actorOf(request: FastifyRequest): string | null {
  if (request.apiKey) return `apikey:${request.apiKey.prefix}`;
  if (request.auth) return `user:${request.auth.user.id}`;
  return null;
}
