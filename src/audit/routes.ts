import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { principalOf, type ApiKeyGuards } from '../http/auth.js';
import { confinedTo } from '../principal.js';
import { responses } from '../http/schemas.js';
import type { AuditLog } from './service.js';

const AuditEventBody = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  event: Type.String(),
  actor: Type.Union([Type.String(), Type.Null()]),
  target: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Unknown(),
});

export const auditRoutes: FastifyPluginAsyncTypebox<{ audit: AuditLog; guards: ApiKeyGuards }> = async (app, { audit, guards }) => {
  app.get(
    '/api/admin/audit',
    {
      preHandler: guards.requireOrganizationAdmin,
      schema: {
        tags: ['admin'],
        summary: "Security events, newest first; page back with before=<id of the last one seen>. An organization administrator sees only the events whose target is their organization or one of its members",
        querystring: Type.Object({
          event: Type.Optional(Type.String({ maxLength: 64, description: 'An event name, or a family such as login.*' })),
          actor: Type.Optional(Type.String({ maxLength: 100 })),
          target: Type.Optional(Type.String({ maxLength: 100 })),
          since: Type.Optional(Type.String({ format: 'date-time' })),
          until: Type.Optional(Type.String({ format: 'date-time' })),
          before: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
        }),
        response: responses({ 200: Type.Object({ events: Type.Array(AuditEventBody) }) }),
      },
    },
    async (request) => {
      const q = request.query;
      const events = await audit.list({
        event: q.event,
        actor: q.actor,
        target: q.target,
        since: q.since === undefined ? undefined : Date.parse(q.since),
        until: q.until === undefined ? undefined : Date.parse(q.until),
        beforeId: q.before,
        organizationId: confinedTo(principalOf(request)),
        limit: q.limit,
      }, request.readFreshness);
      return { events };
    },
  );
};
