import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { SessionGuard } from '../http/auth.js';
import { responses } from '../http/schemas.js';
import type { OwnSessions } from './own-sessions.js';
import type { SessionService } from './service.js';

const SessionBody = Type.Object({
  id: Type.Integer(),
  current: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  last_seen_at: Type.String({ format: 'date-time' }),
  expires_at: Type.String({ format: 'date-time' }),
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
});

export const sessionRoutes: FastifyPluginAsyncTypebox<{ sessions: SessionService; ownSessions: OwnSessions; requireSession: SessionGuard }> = async (app, deps) => {
  app.get(
    '/api/auth/sessions',
    {
      preHandler: deps.requireSession,
      schema: { tags: ['auth'], summary: "The signed-in user's active sessions", response: responses({ 200: Type.Object({ sessions: Type.Array(SessionBody) }) }) },
    },
    async (request) => {
      const { user, session: current } = request.auth!;
      const rows = await deps.sessions.list(user.id);
      return {
        sessions: rows.map((s) => ({
          id: s.id,
          current: s.id === current.id,
          created_at: new Date(s.created_at).toISOString(),
          last_seen_at: new Date(s.last_seen_at).toISOString(),
          expires_at: new Date(s.expires_at).toISOString(),
          ip: s.ip,
          user_agent: s.user_agent,
        })),
      };
    },
  );

  app.delete(
    '/api/auth/sessions',
    {
      preHandler: deps.requireSession,
      schema: {
        tags: ['auth'],
        summary: 'Sign out every other device: revoke all your sessions but this one',
        response: responses({ 200: Type.Object({ revoked: Type.Integer() }) }),
      },
    },
    async (request) => {
      const { user, session } = request.auth!;
      return { revoked: await deps.ownSessions.revokeOthers({ userId: user.id, ip: request.ip }, session.id) };
    },
  );

  app.delete(
    '/api/auth/sessions/:id',
    {
      preHandler: deps.requireSession,
      schema: {
        tags: ['auth'],
        summary: 'Revoke one of your sessions',
        params: Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) }),
        response: responses({ 204: Type.Null() }),
      },
    },
    async (request, reply) => {
      await deps.ownSessions.revoke({ userId: request.auth!.user.id, ip: request.ip }, request.params.id);
      return reply.code(204).send(null);
    },
  );
};
