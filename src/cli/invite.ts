// `gatehouse invite …`: invitation codes.
import { expiryAfterDays, invitationJson } from '../orgs/views.js';
import { OPERATOR } from '../principal.js';
import { json, positiveInt, positiveIntOrNone, print, UsageError, withServices, type Command } from './command.js';

export const inviteCommands: Record<string, Command> = {
  'invite create': {
    summary: 'Issue another invitation code for an organization',
    usage: 'gatehouse invite create --org ID [--max-uses N] [--expires-in-days D] [--json]',
    options: { org: { type: 'string' }, 'max-uses': { type: 'string' }, 'expires-in-days': { type: 'string' }, json },
    async run(values) {
      const orgId = positiveInt(values.org, '--org');
      if (orgId === undefined) throw new UsageError('--org is required');
      const maxUses = positiveInt(values['max-uses'], '--max-uses');
      const days = positiveInt(values['expires-in-days'], '--expires-in-days');
      await withServices(async ({ admin }) => {
        const out = invitationJson(await admin.organizations.createInvitation(OPERATOR, orgId, { maxUses: maxUses ?? null, expiresAt: expiryAfterDays(days) }));
        print(out, values.json === true, () => `invitation code ${out.invitation_code} for organization ${orgId}`);
      });
    },
  },
  'invite revoke': {
    summary: 'Revoke an invitation code: nobody else registers with it',
    usage: 'gatehouse invite revoke --code CODE [--json]',
    options: { code: { type: 'string' }, json },
    async run(values) {
      if (typeof values.code !== 'string') throw new UsageError('--code is required');
      await withServices(async ({ admin }) => {
        const out = invitationJson(await admin.organizations.revokeInvitation(OPERATOR, values.code as string));
        print(out, values.json === true, () => `invitation code ${out.invitation_code} revoked`);
      });
    },
  },
  'invite set': {
    summary: "Change a live invitation code's quota or expiry (the code and its link stay the same)",
    usage:
      'gatehouse invite set --code CODE [--max-uses N|none] [--expires-in-days D|never] [--json]\n\n' +
      '  More places for a workshop than planned, or another day, without handing out a new link. A quota\n' +
      '  below the uses so far closes the code. Running servers admit by the new limits at once.',
    options: { code: { type: 'string' }, 'max-uses': { type: 'string' }, 'expires-in-days': { type: 'string' }, json },
    async run(values) {
      if (typeof values.code !== 'string') throw new UsageError('--code is required');
      const maxUses = positiveIntOrNone(values['max-uses'], '--max-uses', 'none');
      const days = positiveIntOrNone(values['expires-in-days'], '--expires-in-days', 'never');
      if (maxUses === undefined && days === undefined) throw new UsageError('give --max-uses, --expires-in-days or both');
      const limits = { ...(maxUses !== undefined ? { maxUses } : {}), ...(days !== undefined ? { expiresAt: expiryAfterDays(days) } : {}) };
      await withServices(async ({ admin }) => {
        const out = invitationJson(await admin.organizations.changeInvitationLimits(OPERATOR, values.code as string, limits));
        print(out, values.json === true, () => `invitation code ${out.invitation_code}: ${out.uses} used of ${out.max_uses ?? 'unlimited'}, ${out.expires_at ? `expires ${out.expires_at}` : 'never expires'}`);
      });
    },
  },
  'invite rotate': {
    summary: 'Replace an invitation code with a new one (same organization, quota and expiry)',
    usage: 'gatehouse invite rotate --code CODE [--json]',
    options: { code: { type: 'string' }, json },
    async run(values) {
      if (typeof values.code !== 'string') throw new UsageError('--code is required');
      await withServices(async ({ admin }) => {
        const out = invitationJson(await admin.organizations.rotateInvitation(OPERATOR, values.code as string));
        print(out, values.json === true, () => `invitation code ${values.code} revoked; new code ${out.invitation_code}`);
      });
    },
  },
};
