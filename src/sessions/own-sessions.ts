// What a signed-in user does with their own sessions — sign out, end one device's session, end every
// other one — each done once here and recorded in the audit log: a session that ends by its owner's
// hand is as much a security event as one an administrator ends.
import type { AuditLog } from '../audit/service.js';
import { AppError } from '../errors.js';
import type { SessionService } from './service.js';

interface Actor {
  /** The signed-in user. */
  userId: number;
  ip: string;
}

export class OwnSessions {
  constructor(private readonly deps: { sessions: SessionService; audit: AuditLog }) {}

  /** Ends the session the request came with (`POST /api/auth/logout`). */
  async signOut(actor: Actor, sessionId: number): Promise<void> {
    if (await this.deps.sessions.revoke(actor.userId, sessionId)) await this.record(actor, 'logout', { session_id: sessionId });
  }

  /** Ends one of the user's sessions; SESSION_NOT_FOUND when it is not theirs or no longer exists. */
  async revoke(actor: Actor, sessionId: number): Promise<void> {
    if (!(await this.deps.sessions.revoke(actor.userId, sessionId))) throw new AppError('SESSION_NOT_FOUND');
    await this.record(actor, 'session.revoked', { session_id: sessionId });
  }

  /** Ends every session of the user but `keepSessionId`; returns how many. */
  async revokeOthers(actor: Actor, keepSessionId: number): Promise<number> {
    const revoked = await this.deps.sessions.revokeOthers(actor.userId, keepSessionId);
    if (revoked > 0) await this.record(actor, 'session.revoked_others', { revoked, kept_session_id: keepSessionId });
    return revoked;
  }

  private record(actor: Actor, event: 'logout' | 'session.revoked' | 'session.revoked_others', detail: Record<string, unknown>): Promise<void> {
    return this.deps.audit.record({ event, actor: `user:${actor.userId}`, target: `user:${actor.userId}`, ip: actor.ip, detail });
  }
}
