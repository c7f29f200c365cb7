// `gatehouse org …`: organizations and their member lists.
import path from 'node:path';
import { AppError } from '../errors.js';
import { expiryAfterDays, invitationJson, organizationJson } from '../orgs/views.js';
import { OPERATOR } from '../principal.js';
import { json, positiveInt, print, UsageError, withServices, type Command } from './command.js';

export const orgCommands: Record<string, Command> = {
  'org create': {
    summary: 'Create an organization and its first invitation code',
    usage: 'gatehouse org create --name NAME [--max-uses N] [--expires-in-days D] [--json]',
    options: { name: { type: 'string' }, 'max-uses': { type: 'string' }, 'expires-in-days': { type: 'string' }, json },
    async run(values) {
      if (typeof values.name !== 'string') throw new UsageError('--name is required');
      const maxUses = positiveInt(values['max-uses'], '--max-uses');
      const days = positiveInt(values['expires-in-days'], '--expires-in-days');
      await withServices(async ({ admin }) => {
        const { organization, invitation } = await admin.organizations.createOrganization(OPERATOR, values.name as string, {
          maxUses: maxUses ?? null,
          expiresAt: expiryAfterDays(days),
        });
        const out = {
          id: organization.id,
          name: organization.name,
          created_at: new Date(organization.created_at).toISOString(),
          invitation_code: invitation.code,
          max_uses: invitation.max_uses,
          expires_at: invitation.expires_at === null ? null : new Date(invitation.expires_at).toISOString(),
        };
        print(out, values.json === true, () => `organization ${out.id} "${out.name}" created; invitation code ${out.invitation_code}`);
      });
    },
  },
  'org list': {
    summary: 'List organizations with their invitation codes',
    usage: 'gatehouse org list [--json]',
    options: { json },
    async run(values) {
      await withServices(async ({ orgs }) => {
        const rows = await orgs.listOrganizations();
        const out = await Promise.all(
          rows.map(async (row) => ({
            id: row.id,
            name: row.name,
            user_count: Number(row.user_count),
            created_at: new Date(row.created_at).toISOString(),
            invitation_codes: (await orgs.listInvitationCodes(row.id)).map(invitationJson),
          })),
        );
        print(out, values.json === true, () =>
          out.length === 0
            ? 'no organizations'
            : out.map((o) => `${o.id}\t${o.name}\t${o.user_count} users\tcodes: ${o.invitation_codes.filter((c) => !c.revoked).map((c) => c.invitation_code).join(', ') || '-'}`).join('\n'),
        );
      });
    },
  },
  'org set': {
    summary: "Change an organization's name or settings",
    usage: 'gatehouse org set --id ID [--name NAME] [--require-sms yes|no] [--json]\n\n  --name         a new name (1-100 printable characters)\n  --require-sms  whether registering into it also needs an SMS code (purpose register); running servers apply it at once',
    options: { id: { type: 'string' }, name: { type: 'string' }, 'require-sms': { type: 'string' }, json },
    async run(values) {
      const id = positiveInt(values.id, '--id');
      if (id === undefined) throw new UsageError('--id is required');
      const flag = values['require-sms'];
      if (flag !== undefined && flag !== 'yes' && flag !== 'no') throw new UsageError('--require-sms takes yes or no');
      const name = typeof values.name === 'string' ? values.name : undefined;
      if (flag === undefined && name === undefined) throw new UsageError('give --name, --require-sms or both');
      await withServices(async ({ admin }) => {
        const settings = { ...(name !== undefined ? { name } : {}), ...(flag !== undefined ? { registerRequiresSms: flag === 'yes' } : {}) };
        const updated = await admin.organizations.changeOrganization(OPERATOR, id, settings).catch((error: unknown) => {
          throw error instanceof AppError && error.code === 'ORGANIZATION_NOT_FOUND' ? new UsageError(`no organization ${id}`) : error;
        });
        const out = organizationJson(updated);
        print(out, values.json === true, () => `organization ${out.id} "${out.name}": registration ${out.register_requires_sms ? 'needs' : 'does not need'} an SMS code`);
      });
    },
  },
  'org delete': {
    summary: 'Delete an organization that has no members, with its invitation codes, imports and exports',
    usage: 'gatehouse org delete --id ID --yes [--json]\n\n  --yes confirms: it cannot be undone (except from a backup). An organization with members is refused.',
    options: { id: { type: 'string' }, yes: { type: 'boolean' }, json },
    async run(values) {
      const id = positiveInt(values.id, '--id');
      if (id === undefined) throw new UsageError('--id is required');
      if (values.yes !== true) throw new UsageError('deleting an organization cannot be undone: add --yes to confirm');
      await withServices(async ({ admin }) => {
        const deleted = await admin.organizations.deleteOrganization(OPERATOR, id);
        print({ deleted: true, id }, values.json === true, () => `organization ${id} "${deleted.name}" deleted`);
      });
    },
  },
  'org export': {
    summary: "Write an organization's member list as CSV",
    usage: 'gatehouse org export --id ID [--out FILE]\n\n  The CSV of the console\'s "Export members" (name, phone, role, status, registered_at, invitation_code,\n  password_set; UTF-8 with a BOM). Without --out it goes to stdout; a file is made readable by its owner only.',
    options: { id: { type: 'string' }, out: { type: 'string' } },
    async run(values) {
      const id = positiveInt(values.id, '--id');
      if (id === undefined) throw new UsageError('--id is required');
      await withServices(async ({ exports }) => {
        const out = typeof values.out === 'string' ? path.resolve(values.out) : undefined;
        const { rows, content } = await exports.csvNow(OPERATOR, id, out);
        if (!out) return void process.stdout.write(content);
        const { writeFile } = await import('node:fs/promises');
        await writeFile(out, content, { mode: 0o600 });
        process.stderr.write(`${rows} members of organization ${id} written to ${out}\n`);
      });
    },
  },
};
