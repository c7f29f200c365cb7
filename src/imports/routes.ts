import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../errors.js';
import { principalOf, type ApiKeyGuards } from '../http/auth.js';
import { responses, TaskSummaryBody } from '../http/schemas.js';
import { reportCsv } from './report.js';
import type { ImportService } from './service.js';

const ImportBody = Type.Object({
  id: Type.Integer(),
  organization_id: Type.Integer(),
  file_name: Type.String(),
  encoding: Type.String(),
  rows: Type.Integer(),
  created_by: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  task: TaskSummaryBody,
  counts: Type.Union([Type.Record(Type.String(), Type.Integer()), Type.Null()]),
  file_deleted_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const ImportId = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });

/** Spreadsheet exports come with any of these types; the bytes are decoded by sniffing, not by the header. */
const ROSTER_TYPES = ['text/csv', 'application/csv', 'application/octet-stream', 'application/vnd.ms-excel', 'text/plain'];

export const importRoutes: FastifyPluginAsyncTypebox<{ imports: ImportService; guards: ApiKeyGuards; maxBytes: number }> = async (app, { imports, guards, maxBytes }) => {
  // Encapsulated in this plugin: only the upload route takes raw bytes, and with its own size limit.
  app.addContentTypeParser(ROSTER_TYPES, { parseAs: 'buffer', bodyLimit: maxBytes }, (_request, body, done) => done(null, body));

  app.post(
    '/api/admin/organizations/:id/imports',
    {
      preHandler: guards.requireOrganizationAdmin,
      bodyLimit: maxBytes,
      schema: {
        tags: ['admin'],
        summary: 'Upload a roster (CSV: name, phone, optional role user, org_admin or admin; UTF-8, UTF-16 or GB18030) to create accounts in the organization; 202 and a task. An organization administrator uploads for their own organization, without role admin (403 FORBIDDEN)',
        params: ImportId,
        querystring: Type.Object({ file_name: Type.String({ minLength: 1, maxLength: 255, default: 'roster.csv' }) }),
        response: responses({ 202: Type.Object({ import: ImportBody }) }),
      },
    },
    async (request, reply) => {
      const bytes = request.body as unknown;
      if (!Buffer.isBuffer(bytes) || bytes.length === 0) throw new AppError('INVALID_ROSTER', { message: 'Send the roster file as the request body (Content-Type: text/csv).' });
      const created = await imports.create(principalOf(request), { organizationId: request.params.id, fileName: request.query.file_name, bytes });
      return reply.code(202).send({ import: created });
    },
  );

  app.get(
    '/api/admin/imports/:id',
    { preHandler: guards.requireOrganizationAdmin, schema: { tags: ['admin'], summary: 'An import: its task state, progress and counts', params: ImportId, response: responses({ 200: Type.Object({ import: ImportBody }) }) } },
    async (request) => ({ import: await imports.get(principalOf(request), request.params.id) }),
  );

  app.get(
    '/api/admin/imports/:id/report',
    {
      preHandler: guards.requireOrganizationAdmin,
      schema: {
        tags: ['admin'],
        summary: 'Per-row results (created, exists, invalid_phone, invalid_name, invalid_role, duplicate_in_file) as JSON, or CSV with ?format=csv; 410 IMPORT_EXPIRED after IMPORT_RETENTION_DAYS',
        params: ImportId,
        querystring: Type.Object({ format: Type.Union([Type.Literal('json'), Type.Literal('csv')], { default: 'json' }) }),
      },
    },
    async (request, reply) => {
      const report = await imports.report(principalOf(request), request.params.id);
      if (request.query.format === 'csv') {
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="import-${request.params.id}-report.csv"`)
          .send(reportCsv(report));
      }
      return reply.send({ report });
    },
  );
};
