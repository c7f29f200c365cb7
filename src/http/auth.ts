// Session authentication: reads the session cookie and attaches the signed-in user to the request.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccountService } from '../accounts/service.js';
import type { SessionRow, UserRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { SessionService } from '../sessions/service.js';

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
