import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf, type ApiKeyGuards } from '../http/auth.js';
import { responses } from '../http/schemas.js';
import type { TaskService } from './service.js';
import { PRIORITY_MIN, PRIORITY_SUBMITTED_MAX, type TaskRecord } from './types.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const StateField = Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('failed'), Type.Literal('succeeded'), Type.Literal('dead')]);
const Time = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

const TaskBody = Type.Object({
  id: Type.String(),
  type: Type.String(),
  state: StateField,
  priority: Type.Integer(),
  attempts: Type.Integer(),
  max_attempts: Type.Integer(),
  payload: Type.Unknown(),
  result: Type.Unknown(),
  progress: Type.Unknown(),
  last_error: Type.Union([Type.String(), Type.Null()]),
  submitted_by: Type.Union([Type.String(), Type.Null()]),
  /** The X-Request-Id of the request that submitted it: the task worker's log lines for it carry the same id. */
  request_id: Type.Union([Type.String(), Type.Null()]),
  created_at: Time,
  updated_at: Time,
  started_at: Time,
  finished_at: Time,
  next_run_at: Time,
});
const TaskEnvelope = Type.Object({ task: TaskBody });

function view(task: TaskRecord) {
  return {
    ...task,
    created_at: iso(task.created_at),
    updated_at: iso(task.updated_at),
    started_at: iso(task.started_at),
    finished_at: iso(task.finished_at),
    next_run_at: iso(task.next_run_at),
  };
}

const TaskId = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) });
const IDEMPOTENCY_KEY = { minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$' };

export const taskRoutes: FastifyPluginAsyncTypebox<{ tasks: TaskService; guards: ApiKeyGuards }> = async (app, { tasks, guards }) => {
  app.post(
    '/api/tasks',
    {
      preHandler: guards.requireScope('tasks:write'),
      schema: {
        tags: ['tasks'],
        summary: 'Submit a task (API key with tasks:write). 201 when created; 200 with the first task when the idempotency key was used before.',
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String(IDEMPOTENCY_KEY)) }),
        body: Type.Object(
          {
            type: Type.String({ minLength: 1, maxLength: 64 }),
            payload: Type.Optional(Type.Unknown()),
            priority: Type.Optional(Type.Integer({ minimum: PRIORITY_MIN, maximum: PRIORITY_SUBMITTED_MAX, description: `Higher runs first; default 5. At most ${PRIORITY_SUBMITTED_MAX}: higher ones are the system's own (SMS delivery).` })),
            max_attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 25 })),
            idempotency_key: Type.Optional(Type.String(IDEMPOTENCY_KEY)),
          },
          { additionalProperties: false },
        ),
        response: responses({ 200: TaskEnvelope, 201: TaskEnvelope }),
      },
    },
    async (request, reply) => {
      const body = request.body;
      const { task, created } = await tasks.submit(
        {
          type: body.type,
          payload: body.payload ?? null,
          priority: body.priority,
          maxAttempts: body.max_attempts,
          idempotencyKey: body.idempotency_key ?? request.headers['idempotency-key'],
        },
        actorOf(request),
        true,
      );
      return reply.code(created ? 201 : 200).send({ task: view(task) });
    },
  );

  app.get(
    '/api/tasks/:id',
    {
      preHandler: guards.requireScope('tasks:read'),
      schema: { tags: ['tasks'], summary: 'Status of a task this API key submitted', params: TaskId, response: responses({ 200: TaskEnvelope }) },
    },
    async (request) => ({ task: view(await tasks.getOwn(request.params.id, actorOf(request)!)) }),
  );

  app.get(
    '/api/admin/tasks',
    {
      preHandler: guards.requireAdmin,
      schema: {
        tags: ['admin'],
        summary: 'Tasks, newest first',
        querystring: Type.Object({
          state: Type.Optional(StateField),
          type: Type.Optional(Type.String({ maxLength: 64 })),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
        }),
        response: responses({ 200: Type.Object({ tasks: Type.Array(TaskBody) }) }),
      },
    },
    async (request) => {
      const { state, type, limit } = request.query;
      return { tasks: (await tasks.list({ state, type, limit })).map(view) };
    },
  );

  app.get(
    '/api/admin/tasks/stats',
    {
      preHandler: guards.requireAdmin,
      schema: {
        tags: ['admin'],
        summary: 'How many tasks are in each state',
        response: responses({ 200: Type.Object({ backend: Type.String(), counts: Type.Record(Type.String(), Type.Integer()) }) }),
      },
    },
    async () => ({ backend: tasks.queue.backend, counts: await tasks.counts() }),
  );

  app.get(
    '/api/admin/tasks/:id',
    { preHandler: guards.requireAdmin, schema: { tags: ['admin'], summary: 'One task', params: TaskId, response: responses({ 200: TaskEnvelope }) } },
    async (request) => ({ task: view(await tasks.get(request.params.id)) }),
  );

  app.post(
    '/api/admin/tasks/:id/retry',
    {
      preHandler: guards.requireAdmin,
      schema: { tags: ['admin'], summary: 'Put a dead task back in the queue with fresh attempts', params: TaskId, response: responses({ 200: TaskEnvelope }) },
    },
    async (request) => ({ task: view(await tasks.retry(request.params.id, actorOf(request), request.ip)) }),
  );
};
