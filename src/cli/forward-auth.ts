// `gatehouse forward-auth …`: which organizations and roles may pass forward auth into each protected
// host (a host without a rule is refused to everyone). Running servers apply a change within 5 seconds.
import { OPERATOR } from '../principal.js';
import { json, print, UsageError, withServices, type Command, type FlagValue } from './command.js';

const ROLES = ['user', 'org_admin', 'admin'] as const;
type Role = (typeof ROLES)[number];

function organizationIds(value: FlagValue): number[] | null {
  if (value === undefined) return null;
  const ids = typeof value === 'string' ? value.split(',').map((part) => part.trim()) : [];
  if (ids.length === 0 || ids.some((id) => !/^\d{1,15}$/.test(id) || Number(id) < 1)) throw new UsageError('--orgs takes organization ids separated by commas, e.g. --orgs 1,4');
  return ids.map(Number);
}

function roles(value: FlagValue): Role[] | null {
  if (value === undefined) return null;
  const named = typeof value === 'string' ? value.split(',').map((part) => part.trim()) : [];
  if (named.length === 0 || named.some((role) => !(ROLES as readonly string[]).includes(role))) throw new UsageError(`--roles takes roles separated by commas, of ${ROLES.join(', ')}`);
  return named as Role[];
}

const describe = (rule: { host: string; allowed_organization_ids: number[] | null; allowed_roles: string[] | null }) =>
  `${rule.host}\torganizations: ${rule.allowed_organization_ids?.join(',') ?? 'any'}\troles: ${rule.allowed_roles?.join(',') ?? 'any'}`;

export const forwardAuthCommands: Record<string, Command> = {
  'forward-auth set': {
    summary: "Create a host's forward-auth rule, or replace what it allows",
    usage:
      'gatehouse forward-auth set --host HOST (--anyone | [--orgs ID,ID] [--roles user,org_admin,admin]) [--json]\n\n' +
      '  --host     the protected host as its visitors write it: app.school.cn, or app.school.cn:8443\n' +
      '  --orgs     only members of these organizations (ids, as `gatehouse org list` shows them)\n' +
      '  --roles    only accounts with these roles\n' +
      '  --anyone   anyone signed in (neither --orgs nor --roles)\n' +
      'With both --orgs and --roles, an account needs both. Hosts without a rule are refused to everyone.',
    options: { host: { type: 'string' }, orgs: { type: 'string' }, roles: { type: 'string' }, anyone: { type: 'boolean', default: false }, json },
    async run(values) {
      if (typeof values.host !== 'string') throw new UsageError('--host is required');
      const access = { organizationIds: organizationIds(values.orgs), roles: roles(values.roles) };
      const limited = access.organizationIds !== null || access.roles !== null;
      // Letting everyone in takes saying so: a forgotten --roles must not open a host to all.
      if (values.anyone === true && limited) throw new UsageError('--anyone lets in anyone signed in: give it without --orgs and --roles');
      if (values.anyone !== true && !limited) throw new UsageError('give --orgs, --roles or both; or --anyone to let in anyone signed in');
      const { ruleJson } = await import('../authz/rules.js');
      await withServices(async ({ forwardAuthRules }) => {
        const rule = ruleJson(await forwardAuthRules.set(OPERATOR, values.host as string, access));
        print({ rule }, values.json === true, () => `rule set: ${describe(rule)}`);
      });
    },
  },
  'forward-auth list': {
    summary: 'List the forward-auth rules',
    usage: 'gatehouse forward-auth list [--json]',
    options: { json },
    async run(values) {
      const { ruleJson } = await import('../authz/rules.js');
      await withServices(async ({ forwardAuthRules }) => {
        const rules = (await forwardAuthRules.list()).map(ruleJson);
        print({ rules }, values.json === true, () => (rules.length === 0 ? 'no forward-auth rules: every protected host is refused' : rules.map(describe).join('\n')));
      });
    },
  },
  'forward-auth remove': {
    summary: "Remove a host's forward-auth rule (the host is then refused to everyone)",
    usage: 'gatehouse forward-auth remove --host HOST [--json]',
    options: { host: { type: 'string' }, json },
    async run(values) {
      if (typeof values.host !== 'string') throw new UsageError('--host is required');
      const { ruleJson } = await import('../authz/rules.js');
      await withServices(async ({ forwardAuthRules }) => {
        const rule = ruleJson(await forwardAuthRules.remove(OPERATOR, values.host as string));
        print({ rule }, values.json === true, () => `rule removed: ${rule.host} is refused to everyone`);
      });
    },
  },
};
