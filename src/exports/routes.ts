// Roster exports: ask for an organization's member list (202 and a task), follow it, download the CSV.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { principalOf, type ApiKeyGuards } from '../http/auth.js';
import { responses, TaskSummaryBody } from '../http/schemas.js';
import type { ExportService } from './service.js';

const ExportBody = Type.Object({
  id: Type.Integer(),
  organization_id: Type.Integer(),
  created_by: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  rows: Type.Union([Type.Integer(), Type.Null()]),
  finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  expires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  task: TaskSummaryBody,
});
const Id = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });

export const exportRoutes: FastifyPluginAsyncTypebox<{ exports: ExportService; guards: ApiKeyGuards }> = async (app, { exports, guards }) => {
  app.post(
    '/api/admin/organizations/:id/exports',
    {
      preHandler: guards.requireOrganizationAdmin,
      schema: {
        tags: ['admin'],
        summary: "Export the organization's members (name, phone, role, status, registered_at, invitation_code, password_set) as CSV; 202 and a task",
        params: Id,
        response: responses({ 202: Type.Object({ export: ExportBody }) }),
      },
    },
    async (request, reply) => reply.code(202).send({ export: await exports.create(principalOf(request), request.params.id) }),
  );

  app.get(
    '/api/admin/exports/:id',
    { preHandler: guards.requireOrganizationAdmin, schema: { tags: ['admin'], summary: 'An export: its task state and, once finished, how many members it lists', params: Id, response: responses({ 200: Type.Object({ export: ExportBody }) }) } },
    async (request) => ({ export: await exports.get(principalOf(request), request.params.id) }),
  );

  app.get(
    '/api/admin/exports/:id/file',
    { preHandler: guards.requireOrganizationAdmin, schema: { tags: ['admin'], summary: 'The finished export as CSV (UTF-8 with a BOM, for spreadsheets); 409 EXPORT_NOT_READY before, 410 EXPORT_EXPIRED after EXPORT_RETENTION_HOURS', params: Id } },
    async (request, reply) => {
      const file = await exports.file(principalOf(request), request.params.id);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('content-disposition', `attachment; filename="organization-${file.organizationId}-members-${request.params.id}.csv"`)
        .send(file.content);
    },
  );
};
