// The admin API behind the console: organizations and their invitation codes, users, sessions, and
// the workshop's live registration count. Every route needs an admin (session or API key with the
// admin scope); all but creating and deleting organizations admit an organization administrator too,
// confined to their own organization (src/admin/scope.ts). The routes only read requests and shape
// answers: each change is an action of OrganizationAdmin or UserAdmin, which apply its rules (the
// organization administrator's bounds among them) and record it in the audit log.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { publicUser } from '../accounts/views.js';
import type { AccountService } from '../accounts/service.js';
import { principalOf, type ApiKeyGuards } from '../http/auth.js';
import { PhoneField, responses, UserBody } from '../http/schemas.js';
import type { OrgService } from '../orgs/service.js';
import { registrationLink, registrationQrSvg } from '../orgs/registration-qr.js';
import { expiryAfterDays, invitationJson, organizationJson } from '../orgs/views.js';
import type { SessionService } from '../sessions/service.js';
import type { OrganizationAdmin } from './organizations.js';
import type { UserAdmin } from './users.js';
import { confinedTo, requireOrganization } from '../principal.js';

export interface AdminRouteDeps {
  orgs: OrgService;
  accounts: AccountService;
  sessions: SessionService;
  admin: { organizations: OrganizationAdmin; users: UserAdmin };
  guards: ApiKeyGuards;
  /** PUBLIC_URL's origin: registration links point there; unset, they take the request's. */
  publicOrigin: string | undefined;
}

const Id = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });
const Code = Type.Object({ code: Type.String({ minLength: 4, maxLength: 32, pattern: '^[A-Za-z0-9]+$' }) });
const InvitationBody = Type.Object({
  invitation_code: Type.String(),
  organization_id: Type.Integer(),
  uses: Type.Integer(),
  max_uses: Type.Union([Type.Integer(), Type.Null()]),
  expires_at: Type.Union([Type.String(), Type.Null()]),
  revoked: Type.Boolean(),
  created_at: Type.String(),
});
const OrganizationBody = Type.Object({ id: Type.Integer(), name: Type.String(), register_requires_sms: Type.Boolean(), created_at: Type.String() });
const InvitationOptions = Type.Object(
  {
    max_uses: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    expires_in_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
  },
  { additionalProperties: false },
);
const InvitationLimitsBody = Type.Object(
  {
    max_uses: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()], { description: 'The quota; null: no quota. Below the uses so far, the code admits nobody more.' })),
    expires_in_days: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 3650 }), Type.Null()], { description: 'Expires this many days from now; null: never expires.' })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const adminRoutes: FastifyPluginAsyncTypebox<AdminRouteDeps> = async (app, deps) => {
  const { orgs, accounts, sessions, guards } = deps;
  const { organizations, users } = deps.admin;
  const admin = { preHandler: guards.requireAdmin };
  const organizationAdmin = { preHandler: guards.requireOrganizationAdmin };

  app.get(
    '/api/admin/organizations',
    {
      ...organizationAdmin,
      schema: {
        tags: ['admin'],
        summary: 'Organizations with their user counts and invitation codes',
        response: responses({
          200: Type.Object({
            organizations: Type.Array(
              Type.Object({ ...OrganizationBody.properties, user_count: Type.Integer(), invitation_codes: Type.Array(InvitationBody) }),
            ),
          }),
        }),
      },
    },
    async (request) => {
      const rows = organizations.visibleOrganizations(principalOf(request), await orgs.listOrganizations(request.readFreshness));
      return {
        organizations: await Promise.all(
          rows.map(async (o) => ({
            ...organizationJson(o),
            user_count: Number(o.user_count),
            invitation_codes: (await orgs.listInvitationCodes(o.id, request.readFreshness)).map(invitationJson),
          })),
        ),
      };
    },
  );

  app.post(
    '/api/admin/organizations',
    {
      ...admin,
      schema: {
        tags: ['admin'],
        summary: 'Create an organization and its first invitation code',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), max_uses: Type.Optional(Type.Integer({ minimum: 1 })), expires_in_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })) }, { additionalProperties: false }),
        response: responses({ 201: Type.Object({ organization: Type.Object({ id: Type.Integer(), name: Type.String() }), invitation: InvitationBody }) }),
      },
    },
    async (request, reply) => {
      const { organization, invitation } = await organizations.createOrganization(principalOf(request), request.body.name, { maxUses: request.body.max_uses ?? null, expiresAt: expiryAfterDays(request.body.expires_in_days) });
      return reply.code(201).send({ organization: { id: organization.id, name: organization.name }, invitation: invitationJson(invitation) });
    },
  );

  app.patch(
    '/api/admin/organizations/:id',
    {
      ...organizationAdmin,
      schema: {
        tags: ['admin'],
        summary: "Rename an organization, or change whether registering into it needs an SMS code (applies at once on every worker and server)",
        params: Id,
        body: Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })), register_requires_sms: Type.Optional(Type.Boolean()) }, { additionalProperties: false, minProperties: 1 }),
        response: responses({ 200: Type.Object({ organization: OrganizationBody }) }),
      },
    },
    async (request) => {
      const settings = {
        ...(request.body.name !== undefined ? { name: request.body.name } : {}),
        ...(request.body.register_requires_sms !== undefined ? { registerRequiresSms: request.body.register_requires_sms } : {}),
      };
      return { organization: organizationJson(await organizations.changeOrganization(principalOf(request), request.params.id, settings)) };
    },
  );

  app.delete(
    '/api/admin/organizations/:id',
    {
      ...admin,
      schema: {
        tags: ['admin'],
        summary: 'Delete an organization without members, with its invitation codes, imports and exports (409 ORGANIZATION_NOT_EMPTY while it has members)',
        params: Id,
        response: responses({ 204: Type.Null() }),
      },
    },
    async (request, reply) => {
      await organizations.deleteOrganization(principalOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/admin/organizations/:id/invitations',
    { ...organizationAdmin, schema: { tags: ['admin'], summary: 'Another invitation code, with an optional quota and expiry', params: Id, body: InvitationOptions, response: responses({ 201: Type.Object({ invitation: InvitationBody }) }) } },
    async (request, reply) => {
      const code = await organizations.createInvitation(principalOf(request), request.params.id, { maxUses: request.body.max_uses ?? null, expiresAt: expiryAfterDays(request.body.expires_in_days) });
      return reply.code(201).send({ invitation: invitationJson(code) });
    },
  );

  app.post(
    '/api/admin/invitations/:code/revoke',
    { ...organizationAdmin, schema: { tags: ['admin'], summary: 'Revoke an invitation code', params: Code, response: responses({ 200: Type.Object({ invitation: InvitationBody }) }) } },
    async (request) => {
      return { invitation: invitationJson(await organizations.revokeInvitation(principalOf(request), request.params.code)) };
    },
  );

  app.patch(
    '/api/admin/invitations/:code',
    {
      ...organizationAdmin,
      schema: {
        tags: ['admin'],
        summary: "Change a live code's quota or expiry; the code, its link and QR code stay the same",
        params: Code,
        body: InvitationLimitsBody,
        response: responses({ 200: Type.Object({ invitation: InvitationBody }) }),
      },
    },
    async (request) => {
      const { max_uses, expires_in_days } = request.body;
      const limits = { ...(max_uses !== undefined ? { maxUses: max_uses } : {}), ...(expires_in_days !== undefined ? { expiresAt: expiryAfterDays(expires_in_days) } : {}) };
      return { invitation: invitationJson(await organizations.changeInvitationLimits(principalOf(request), request.params.code, limits)) };
    },
  );

  app.post(
    '/api/admin/invitations/:code/rotate',
    { ...organizationAdmin, schema: { tags: ['admin'], summary: 'Replace an invitation code with a new one (same quota and expiry)', params: Code, response: responses({ 200: Type.Object({ invitation: InvitationBody }) }) } },
    async (request) => {
      return { invitation: invitationJson(await organizations.rotateInvitation(principalOf(request), request.params.code)) };
    },
  );

  app.get(
    '/api/admin/invitations/:code/qr.svg',
    {
      ...organizationAdmin,
      schema: {
        tags: ['admin'],
        summary: "The code's registration link as a QR code (SVG), for a workshop's projector; the link's origin is PUBLIC_URL's, or this request's without it",
        params: Code,
        response: responses({ 200: Type.String({ description: 'An SVG image (image/svg+xml).' }) }),
      },
    },
    async (request, reply) => {
      await organizations.requireCodeInScope(principalOf(request), request.params.code);
      const invitation = await orgs.findLiveInvitation(request.params.code);
      const svg = await registrationQrSvg(registrationLink(deps.publicOrigin ?? `${request.protocol}://${request.host}`, invitation.code));
      return reply.type('image/svg+xml').header('cache-control', 'no-store').send(svg);
    },
  );

  app.get(
    '/api/admin/invitations/:code/registrations',
    {
      ...organizationAdmin,
      schema: {
        tags: ['admin'],
        summary: "The workshop's live view: registrations with this code per minute",
        params: Code,
        querystring: Type.Object({ minutes: Type.Integer({ minimum: 1, maximum: 24 * 60, default: 60 }) }),
        response: responses({ 200: Type.Object({ invitation_code: Type.String(), per_minute: Type.Array(Type.Object({ minute: Type.String(), count: Type.Integer() })), total: Type.Integer() }) }),
      },
    },
    async (request) => {
      await organizations.requireCodeInScope(principalOf(request), request.params.code);
      const rows = await accounts.registrationsPerMinute(request.params.code, Date.now() - request.query.minutes * 60_000, request.readFreshness);
      return { invitation_code: request.params.code.toUpperCase(), per_minute: rows.map((r) => ({ minute: new Date(r.minute).toISOString(), count: r.count })), total: rows.reduce((n, r) => n + r.count, 0) };
    },
  );

  app.get(
    '/api/admin/users',
    {
      ...organizationAdmin,
      schema: {
        tags: ['admin'],
        summary: "Search users by phone (digits) or name, in every organization or in one (an organization administrator's search is confined to their own)",
        querystring: Type.Object({ q: Type.String({ maxLength: 64, default: '' }), limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }), organization_id: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })) }),
        response: responses({
          200: Type.Object({
            users: Type.Array(
              Type.Intersect([
                UserBody,
                Type.Object({
                  has_password: Type.Boolean(),
                  failed_logins: Type.Integer({ description: 'Wrong passwords within the lockout window' }),
                  locked_until: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When a lockout ends; null when not locked' }),
                }),
              ]),
            ),
          }),
        }),
      },
    },
    async (request) => {
      const by = principalOf(request);
      if (request.query.organization_id !== undefined) requireOrganization(by, request.query.organization_id);
      const organizationId = request.query.organization_id ?? confinedTo(by);
      const found = await accounts.search(request.query.q, request.query.limit, organizationId, request.readFreshness);
      const lockouts = await accounts.lockoutStates(found);
      return {
        users: found.map((u) => {
          const { failedLogins, lockedUntil } = lockouts.get(u.id)!;
          return { ...publicUser(u), has_password: u.password_hash !== null, failed_logins: failedLogins, locked_until: lockedUntil === null ? null : new Date(lockedUntil).toISOString() };
        }),
      };
    },
  );

  const userAction = (path: string, summary: string, act: 'disable' | 'enable' | 'unlock' | 'forcePasswordReset') =>
    app.post(
      `/api/admin/users/:id/${path}`,
      { ...organizationAdmin, schema: { tags: ['admin'], summary, params: Id, response: responses({ 200: Type.Object({ user: UserBody }) }) } },
      async (request) => ({ user: publicUser(await users[act](principalOf(request), request.params.id)) }),
    );
  userAction('disable', 'Disable an account (it is signed out everywhere)', 'disable');
  userAction('enable', 'Enable a disabled account', 'enable');
  userAction('unlock', 'Lift a lockout', 'unlock');
  userAction('force-password-reset', 'Remove the password and sign out everywhere: the owner sets a new one with an SMS code', 'forcePasswordReset');
  app.post(
    '/api/admin/users/:id/reset-two-factor',
    {
      preHandler: [guards.requireOrganizationAdmin, guards.requireRecentAuthentication],
      schema: {
        tags: ['admin'],
        summary: 'Turn off two-factor sign-in for an owner who lost the phone and the recovery codes (they sign in with the password alone, and may set it up again). Needs a recent re-authentication (401 REAUTHENTICATION_REQUIRED)',
        params: Id,
        response: responses({ 200: Type.Object({ user: UserBody }) }),
      },
    },
    async (request) => ({ user: publicUser(await users.resetTwoFactor(principalOf(request), request.params.id)) }),
  );

  app.patch(
    '/api/admin/users/:id',
    {
      ...organizationAdmin,
      schema: {
        tags: ['admin'],
        summary:
          "Correct a user's name or phone number, move them to another organization, or change their role: admin (platform administrator), org_admin (administers their own organization) or user (their sessions see it at their next request; a demoted platform administrator's API keys are revoked). An organization administrator makes nobody admin (403 FORBIDDEN) and moves nobody out (403 OUTSIDE_ORGANIZATION). A role needs a recent re-authentication (401 REAUTHENTICATION_REQUIRED)",
        params: Id,
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            phone: Type.Optional(PhoneField),
            organization_id: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
            role: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('org_admin'), Type.Literal('admin')])),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: responses({ 200: Type.Object({ user: UserBody }) }),
      },
    },
    async (request, reply) => {
      const { name, phone, organization_id: organizationId, role } = request.body;
      if (role !== undefined) await guards.requireRecentAuthentication(request, reply);
      return { user: publicUser(await users.change(principalOf(request), request.params.id, { name, phone, organizationId, role })) };
    },
  );

  app.delete(
    '/api/admin/users/:id',
    {
      ...organizationAdmin,
      schema: {
        tags: ['admin'],
        summary: 'Delete an account for good: its sessions end, the phone number can register again; the audit log keeps its events',
        params: Id,
        response: responses({ 204: Type.Null() }),
      },
    },
    async (request, reply) => {
      await users.delete(principalOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/admin/users/:id/sessions',
    {
      ...organizationAdmin,
      schema: {
        tags: ['admin'],
        summary: "A user's active sessions",
        params: Id,
        response: responses({ 200: Type.Object({ sessions: Type.Array(Type.Object({ id: Type.Integer(), created_at: Type.String(), last_seen_at: Type.String(), ip: Type.Union([Type.String(), Type.Null()]), user_agent: Type.Union([Type.String(), Type.Null()]) })) }) }),
      },
    },
    async (request) => ({
      sessions: (await sessions.list((await users.managed(principalOf(request), request.params.id)).id)).map((s) => ({ id: s.id, created_at: new Date(s.created_at).toISOString(), last_seen_at: new Date(s.last_seen_at).toISOString(), ip: s.ip, user_agent: s.user_agent })),
    }),
  );

  app.delete(
    '/api/admin/sessions/:id',
    { ...organizationAdmin, schema: { tags: ['admin'], summary: 'Revoke any session (that browser is signed out at its next request)', params: Id, response: responses({ 204: Type.Null() }) } },
    async (request, reply) => {
      await users.revokeSession(principalOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
};
