#!/usr/bin/env node
// The command line: the only place that wires config to processes.
import cluster from 'node:cluster';
import path from 'node:path';
import { isIP } from 'node:net';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Services } from './services.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { AppError, isAppError } from './errors.js';
import { changedLimitsJson, changedSettingsJson, expiryAfterDays, invitationJson, organizationJson } from './orgs/views.js';
import type { PasswordHasher } from './security/password.js';
import type { AddressLimits } from './security/rate-limits.js';
import type { Runtime } from './server/runtime.js';

// Each command imports what it uses when it runs: a task worker or the cluster primary never loads
// the HTTP stack, and `gatehouse --help` starts at once.

class UsageError extends Error {}

/** For commands that never hash a password. */
const NO_HASHING: PasswordHasher = {
  hash: () => Promise.reject(new Error('this command does not hash passwords')),
  verify: () => Promise.reject(new Error('this command does not hash passwords')),
  verifyAgainstDummy: () => Promise.reject(new Error('this command does not hash passwords')),
  needsUpgrade: () => false,
};

interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, string | boolean | undefined>): Promise<void>;
}

const json = { type: 'boolean', default: false } as const;

function print(value: unknown, asJson: boolean, text: () => string): void {
  process.stdout.write(asJson ? JSON.stringify(value) + '\n' : text() + '\n');
}

function ipAddress(value: string | boolean | undefined): string {
  if (typeof value !== 'string' || !isIP(value)) throw new UsageError('--address takes an IPv4 or IPv6 address');
  return value;
}

function addressLimitsText(state: AddressLimits): string {
  const head = `${state.network}${state.exempt ? ' (exempt: RATE_LIMIT_EXEMPT)' : ''}`;
  const rows = state.limits.map((l) => `  ${l.limit.padEnd(12)} ${l.used}/${l.points}${l.used > 0 ? `, resets in ${l.resets_in_seconds} s` : ''}`);
  return [head, ...rows].join('\n');
}

const isPositiveWhole = (value: string | boolean): boolean => typeof value === 'string' && /^\d+$/.test(value) && Number(value) >= 1;

function positiveInt(value: string | boolean | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!isPositiveWhole(value)) throw new UsageError(`${flag} takes a whole number of at least 1`);
  return Number(value);
}

/** A whole number of at least 1, or null for `none` (the word the flag takes for "no limit"). */
function positiveIntOrNone(value: string | boolean | undefined, flag: string, none: string): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === none) return null;
  if (!isPositiveWhole(value)) throw new UsageError(`${flag} takes a whole number of at least 1, or ${none}`);
  return Number(value);
}

async function withRuntime<T>(config: Config, fn: (runtime: Runtime) => Promise<T>): Promise<T> {
  const [{ openRuntime }, { migrateToLatest }] = await Promise.all([import('./server/runtime.js'), import('./db/migrate.js')]);
  const runtime = await openRuntime(config);
  try {
    await runtime.database.retrying(() => migrateToLatest(runtime.database.db));
    return await fn(runtime);
  } finally {
    await runtime.close();
  }
}

/** Runs fn with the services of a migrated database, for commands that hash no password. */
async function withServices<T>(fn: (services: Services, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const { createServices } = await import('./services.js');
  return withRuntime(config, (runtime) => fn(createServices({ config, ...runtime, hasher: NO_HASHING }), config));
}

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

function configFrom(values: Record<string, string | boolean | undefined>): Config {
  const overrides: Record<string, string> = {};
  if (typeof values.workers === 'string') overrides.WORKERS = values.workers;
  if (typeof values.port === 'string') overrides.PORT = values.port;
  if (typeof values.host === 'string') overrides.HOST = values.host;
  return loadConfig(overrides);
}

const COMMANDS: Record<string, Command> = {
  serve: {
    summary: 'Run the HTTP service (a primary and N worker processes)',
    usage: 'gatehouse serve [--workers N] [--port P] [--host H]\n\n  --workers N  worker processes (default: WORKERS or the CPU count; 0 or 1: a single process)\n  --port P     TCP port (default: PORT or 9527)\n  --host H     address to listen on (default: HOST or 127.0.0.1)',
    options: { workers: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } },
    async run(values) {
      const config = configFrom(values);
      if (cluster.isWorker && config.role === 'tasks') {
        const { runTaskWorkerProcess } = await import('./server/task-worker.js');
        await runTaskWorkerProcess(config, { concurrency: config.tasks.concurrency, clustered: true });
        return;
      }
      if (cluster.isWorker) {
        const { stopWhenPrimarySays, startServer } = await import('./server/worker.js');
        const server = await startServer(config, { workerIndex: config.workerIndex ?? 0, clustered: true });
        stopWhenPrimarySays(server, config.shutdownTimeoutMs);
        return;
      }
      if (config.testCaptcha) process.stderr.write('WARNING: GATEHOUSE_TEST_CAPTCHA is set: every captcha has a known answer. Never use this in production.\n');
      const [{ openRuntime }, { firstRunMessage, prepareDatabase }] = await Promise.all([import('./server/runtime.js'), import('./server/bootstrap.js')]);
      const runtime = await openRuntime(config);
      let prepared;
      try {
        prepared = await prepareDatabase(runtime.database, runtime.secret);
      } finally {
        await runtime.close();
      }
      const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
      const announce = () => {
        const message = firstRunMessage(prepared, url);
        if (message) process.stdout.write(message + '\n');
        process.stdout.write(`Gatehouse listening on ${url} (${Math.max(1, config.workers)} worker${config.workers > 1 ? 's' : ''}); API docs at ${url}/docs\n`);
      };
      if (config.workers > 1) {
        const { runPrimary } = await import('./server/primary.js');
        await runPrimary(config, announce);
        return;
      }
      const { exitGracefullyOnSignals, startServer } = await import('./server/worker.js');
      const server = await startServer(config, { runTasks: config.tasks.workers > 0 });
      exitGracefullyOnSignals(server, { delayMs: config.shutdownDelayMs, timeoutMs: config.shutdownTimeoutMs });
      announce();
    },
  },
  worker: {
    summary: 'Run background tasks (SMS delivery, roster import, …) from the queue',
    usage:
      'gatehouse worker [--concurrency N] [--metrics-port P]\n\n  --concurrency N   tasks run at a time (default: TASK_CONCURRENCY or 4)\n  --metrics-port P  serve Prometheus metrics on this port (default: none)\n\n  Any number of workers, on any machine that reaches the stores; `gatehouse serve` also forks TASK_WORKERS of them.',
    options: { concurrency: { type: 'string' }, 'metrics-port': { type: 'string' } },
    async run(values) {
      const config = loadConfig();
      const concurrency = positiveInt(values.concurrency, '--concurrency') ?? config.tasks.concurrency;
      const metricsPort = positiveInt(values['metrics-port'], '--metrics-port');
      // Migrations first, as serve does, and the same refusal of a key that is not the installation's.
      const { refuseAnotherSecret } = await import('./server/bootstrap.js');
      await withRuntime(config, (runtime) => refuseAnotherSecret(runtime.database, runtime.secret));
      const { runTaskWorkerProcess } = await import('./server/task-worker.js');
      await runTaskWorkerProcess(config, { concurrency, clustered: false, metricsPort });
    },
  },
  'apikey create': {
    summary: 'Create an API key (shown once)',
    usage: 'gatehouse apikey create --name NAME --scopes tasks:write,tasks:read,admin [--json]',
    options: { name: { type: 'string' }, scopes: { type: 'string' }, json },
    async run(values) {
      if (typeof values.name !== 'string') throw new UsageError('--name is required');
      if (typeof values.scopes !== 'string') throw new UsageError('--scopes is required (comma-separated: tasks:write, tasks:read, admin)');
      const { apiKeyJson } = await import('./apikeys/service.js');
      await withServices(async ({ apiKeys, audit }) => {
        const { key, apiKey } = await apiKeys.create({ name: values.name as string, scopes: (values.scopes as string).split(','), createdBy: null });
        await audit.record({ event: 'apikey.created', actor: 'cli', target: `apikey:${apiKey.prefix}`, detail: { name: apiKey.name, scopes: apiKey.scopes } });
        print({ key, api_key: apiKeyJson(apiKey) }, values.json === true, () => `API key ${apiKey.prefix} (${apiKey.name}; ${apiKey.scopes.join(', ')})\nkey (shown once): ${key}`);
      });
    },
  },
  'apikey list': {
    summary: 'List API keys (never their secrets)',
    usage: 'gatehouse apikey list [--json]',
    options: { json },
    async run(values) {
      const { apiKeyJson } = await import('./apikeys/service.js');
      await withServices(async ({ apiKeys }) => {
        const keys = (await apiKeys.list()).map(apiKeyJson);
        print({ api_keys: keys }, values.json === true, () =>
          keys.length === 0 ? 'no API keys' : keys.map((k) => `${k.id}\t${k.prefix}\t${k.name}\t${k.scopes.join(',')}\t${k.revoked_at ? 'revoked' : 'live'}`).join('\n'),
        );
      });
    },
  },
  'apikey revoke': {
    summary: 'Revoke an API key by its prefix',
    usage: 'gatehouse apikey revoke --prefix PREFIX [--json]',
    options: { prefix: { type: 'string' }, json },
    async run(values) {
      if (typeof values.prefix !== 'string') throw new UsageError('--prefix is required');
      const { apiKeyJson } = await import('./apikeys/service.js');
      await withServices(async ({ apiKeys, audit }) => {
        const revoked = await apiKeys.revokeByPrefix(values.prefix as string);
        if (!revoked) throw new UsageError(`no live API key with prefix ${values.prefix as string}`);
        await audit.record({ event: 'apikey.revoked', actor: 'cli', target: `apikey:${revoked.prefix}` });
        print({ api_key: apiKeyJson(revoked) }, values.json === true, () => `revoked ${revoked.prefix}`);
      });
    },
  },
  migrate: {
    summary: 'Bring the database schema up to date',
    usage: 'gatehouse migrate [--json]',
    options: { json },
    async run(values) {
      const config = loadConfig();
      const [{ openRuntime }, { migrateToLatest }] = await Promise.all([import('./server/runtime.js'), import('./db/migrate.js')]);
      const runtime = await openRuntime(config);
      try {
        const { applied } = await runtime.database.retrying(() => migrateToLatest(runtime.database.db));
        print({ applied }, values.json === true, () => (applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date'));
      } finally {
        await runtime.close();
      }
    },
  },
  'org create': {
    summary: 'Create an organization and its first invitation code',
    usage: 'gatehouse org create --name NAME [--max-uses N] [--expires-in-days D] [--json]',
    options: { name: { type: 'string' }, 'max-uses': { type: 'string' }, 'expires-in-days': { type: 'string' }, json },
    async run(values) {
      if (typeof values.name !== 'string') throw new UsageError('--name is required');
      const maxUses = positiveInt(values['max-uses'], '--max-uses');
      const days = positiveInt(values['expires-in-days'], '--expires-in-days');
      await withServices(async ({ orgs }) => {
        const { organization, invitation } = await orgs.createOrganization(values.name as string, {
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
      await withServices(async ({ orgs, audit }) => {
        const settings = { ...(name !== undefined ? { name } : {}), ...(flag !== undefined ? { registerRequiresSms: flag === 'yes' } : {}) };
        const updated = await orgs.updateOrganization(id, settings);
        if (!updated) throw new UsageError(`no organization ${id}`);
        const out = organizationJson(updated);
        await audit.record({ event: 'admin.organization_changed', actor: 'cli', target: `organization:${id}`, detail: changedSettingsJson(settings, updated) });
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
      await withServices(async ({ orgs, audit }) => {
        const deleted = await orgs.deleteOrganization(id);
        if (!deleted) throw new AppError('ORGANIZATION_NOT_FOUND');
        await audit.record({ event: 'admin.organization_deleted', actor: 'cli', target: `organization:${id}`, detail: { name: deleted.name } });
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
      await withServices(async ({ exports, audit }) => {
        const { rows, content } = await exports.csvNow(id);
        const out = typeof values.out === 'string' ? path.resolve(values.out) : undefined;
        // A member list is personal data: the audit log says who took one.
        await audit.record({ event: 'admin.roster_exported', actor: 'cli', target: `organization:${id}`, detail: { rows, ...(out ? { file: out } : {}) } });
        if (!out) return void process.stdout.write(content);
        const { writeFile } = await import('node:fs/promises');
        await writeFile(out, content, { mode: 0o600 });
        process.stderr.write(`${rows} members of organization ${id} written to ${out}\n`);
      });
    },
  },
  'invite create': {
    summary: 'Issue another invitation code for an organization',
    usage: 'gatehouse invite create --org ID [--max-uses N] [--expires-in-days D] [--json]',
    options: { org: { type: 'string' }, 'max-uses': { type: 'string' }, 'expires-in-days': { type: 'string' }, json },
    async run(values) {
      const orgId = positiveInt(values.org, '--org');
      if (orgId === undefined) throw new UsageError('--org is required');
      const maxUses = positiveInt(values['max-uses'], '--max-uses');
      const days = positiveInt(values['expires-in-days'], '--expires-in-days');
      await withServices(async ({ orgs, audit }) => {
        const code = await orgs.createInvitationCode(orgId, { maxUses: maxUses ?? null, expiresAt: expiryAfterDays(days) });
        const out = invitationJson(code);
        await audit.record({ event: 'admin.invitation_created', actor: 'cli', target: `organization:${orgId}`, detail: { max_uses: out.max_uses, expires_at: out.expires_at } });
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
      await withServices(async ({ orgs, audit }) => {
        const out = invitationJson(await orgs.revokeInvitation(values.code as string));
        await audit.record({ event: 'admin.invitation_revoked', actor: 'cli', target: `organization:${out.organization_id}` });
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
      await withServices(async ({ orgs, audit }) => {
        const code = await orgs.changeInvitationLimits(values.code as string, limits);
        const out = invitationJson(code);
        await audit.record({ event: 'admin.invitation_changed', actor: 'cli', target: `organization:${out.organization_id}`, detail: changedLimitsJson(limits, code) });
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
      await withServices(async ({ orgs, audit }) => {
        const out = invitationJson(await orgs.rotateInvitation(values.code as string));
        await audit.record({ event: 'admin.invitation_rotated', actor: 'cli', target: `organization:${out.organization_id}` });
        print(out, values.json === true, () => `invitation code ${values.code} revoked; new code ${out.invitation_code}`);
      });
    },
  },
  'limits show': {
    summary: "An address's use of the per-address rate limits (captcha, registration, login, SMS)",
    usage: 'gatehouse limits show --address ADDRESS [--json]',
    options: { address: { type: 'string' }, json },
    async run(values) {
      const address = ipAddress(values.address);
      await withServices(async ({ rateLimits }) => {
        const state = await rateLimits.forAddress(address);
        print(state, values.json === true, () => addressLimitsText(state));
      });
    },
  },
  'limits reset': {
    summary: "Lift the per-address rate limits for an address's network (their counts start again)",
    usage: "gatehouse limits reset --address ADDRESS [--json]\n\n  For a workshop behind one address that met 'too many requests'. An IPv6 address lifts its whole\n  network (RATE_LIMIT_IPV6_PREFIX). To stop counting an address at all, see RATE_LIMIT_EXEMPT.",
    options: { address: { type: 'string' }, json },
    async run(values) {
      const address = ipAddress(values.address);
      await withServices(async ({ rateLimits, audit }) => {
        const network = await rateLimits.resetForAddress(address);
        await audit.record({ event: 'admin.rate_limits_reset', actor: 'cli', target: `network:${network}` });
        const state = await rateLimits.forAddress(address);
        print(state, values.json === true, () => `limits lifted for ${network}\n${addressLimitsText(state)}`);
      });
    },
  },
  'user unlock': {
    summary: 'Clear the failed-password count of an account (lifts a lockout)',
    usage: 'gatehouse user unlock --phone PHONE [--json]',
    options: { phone: { type: 'string' }, json },
    async run(values) {
      if (typeof values.phone !== 'string') throw new UsageError('--phone is required');
      const { maskPhone } = await import('./accounts/phone.js');
      await withServices(async ({ accounts, audit }) => {
        const phone = accounts.parsePhone(values.phone as string);
        await accounts.unlock(phone.e164);
        await audit.record({ event: 'admin.user_unlocked', actor: 'cli', target: `phone:${maskPhone(phone.e164)}` });
        print({ unlocked: true }, values.json === true, () => 'unlocked');
      });
    },
  },
  'user reset-2fa': {
    summary: 'Turn off two-factor sign-in for an account whose owner lost the phone and the recovery codes',
    usage: 'gatehouse user reset-2fa --phone PHONE [--json]',
    options: { phone: { type: 'string' }, json },
    async run(values) {
      if (typeof values.phone !== 'string') throw new UsageError('--phone is required');
      const { AppError } = await import('./errors.js');
      await withServices(async ({ accounts, audit }) => {
        const found = await accounts.findByPhone(accounts.parsePhone(values.phone as string).e164);
        if (!found) throw new UsageError('no account with this phone number');
        try {
          await accounts.resetTwoFactor(found.id);
        } catch (error) {
          if (error instanceof AppError && error.code === 'TWO_FACTOR_NOT_ENABLED') throw new UsageError('two-factor sign-in is not on for this account');
          throw error;
        }
        await audit.record({ event: 'admin.two_factor_reset', actor: 'cli', target: `user:${found.id}` });
        print({ two_factor_enabled: false }, values.json === true, () => 'two-factor sign-in turned off: the owner signs in with the password alone');
      });
    },
  },
  'user delete': {
    summary: 'Delete an account for good (its sessions end; the phone number can register again)',
    usage: 'gatehouse user delete --phone PHONE --yes [--json]\n\n  --yes confirms: the account cannot be restored (except from a backup). The audit log keeps its events.',
    options: { phone: { type: 'string' }, yes: { type: 'boolean' }, json },
    async run(values) {
      if (typeof values.phone !== 'string') throw new UsageError('--phone is required');
      if (values.yes !== true) throw new UsageError('deleting an account cannot be undone: add --yes to confirm');
      const { deletedDetail } = await import('./accounts/service.js');
      await withServices(async ({ accounts, audit }) => {
        const phone = accounts.parsePhone(values.phone as string);
        const user = await accounts.findByPhone(phone.e164);
        const deleted = user && (await accounts.deleteAccount(user.id));
        if (!deleted) throw new AppError('NOT_FOUND', { message: `No account has the phone number ${phone.e164}.` });
        await audit.record({ event: 'admin.user_deleted', actor: 'cli', target: `user:${deleted.id}`, detail: deletedDetail(deleted) });
        print({ deleted: true, id: deleted.id }, values.json === true, () => `account ${deleted.id} deleted`);
      });
    },
  },
  backup: {
    summary: 'Copy the embedded SQLite database while the service runs (online backup)',
    usage: 'gatehouse backup [--out FILE] [--json]\n\n  Default FILE: DATA_DIR/backups/gatehouse-<time>.sqlite. For PostgreSQL use pg_dump (docs/deploy.md).',
    options: { out: { type: 'string' }, json },
    async run(values) {
      const config = loadConfig();
      if (config.databaseDialect !== 'sqlite') throw new UsageError('backup copies the embedded SQLite database; for PostgreSQL use pg_dump');
      const out = typeof values.out === 'string' ? path.resolve(values.out) : path.join(config.dataDir, 'backups', `gatehouse-${new Date().toISOString().replace(/[:.]/g, '-')}.sqlite`);
      const { backupSqlite } = await import('./db/backup.js');
      const { pages } = await backupSqlite(config.databaseUrl, out);
      print({ file: out, pages }, values.json === true, () => `backup written to ${out} (${pages} pages)`);
    },
  },
  restore: {
    summary: 'Replace the embedded SQLite database with a backup (stop the service first)',
    usage: 'gatehouse restore --from FILE [--json]',
    options: { from: { type: 'string' }, json },
    async run(values) {
      if (typeof values.from !== 'string') throw new UsageError('--from is required');
      const config = loadConfig();
      if (config.databaseDialect !== 'sqlite') throw new UsageError('restore replaces the embedded SQLite database; for PostgreSQL use pg_restore');
      const { restoreSqlite } = await import('./db/backup.js');
      restoreSqlite(path.resolve(values.from), config.databaseUrl);
      print({ restored: config.databaseUrl }, values.json === true, () => `restored ${config.databaseUrl} from ${values.from}`);
    },
  },
  'admin create': {
    summary: 'Create an administrator account',
    usage:
      'gatehouse admin create --phone PHONE --name NAME [--org ID] [--password-stdin] [--json]\n\n  Without --password-stdin a strong password is generated and printed once.',
    options: { phone: { type: 'string' }, name: { type: 'string' }, org: { type: 'string' }, 'password-stdin': { type: 'boolean', default: false }, json },
    async run(values) {
      if (typeof values.phone !== 'string') throw new UsageError('--phone is required');
      if (typeof values.name !== 'string') throw new UsageError('--name is required');
      const config = loadConfig();
      const [{ randomToken }, { createPasswordHasher }, { createServices }, { publicUser }] = await Promise.all([
        import('./security/tokens.js'),
        import('./security/password.js'),
        import('./services.js'),
        import('./accounts/views.js'),
      ]);
      const password = values['password-stdin'] ? await readStdinLine() : randomToken(15);
      await withRuntime(config, async (runtime) => {
        const hasher = createPasswordHasher(1, config.passwordHash);
        try {
          const { orgs, accounts } = createServices({ config, ...runtime, hasher });
          const orgId = positiveInt(values.org, '--org') ?? (await orgs.listOrganizations())[0]?.id;
          if (orgId === undefined || !(await orgs.findOrganization(orgId))) throw new UsageError('no such organization: create one with `gatehouse org create` or pass --org ID');
          const user = await accounts.createUser({ phone: values.phone as string, name: values.name as string, password, organizationId: orgId, role: 'admin' });
          const out = { user: publicUser(user), ...(values['password-stdin'] ? {} : { password }) };
          print(out, values.json === true, () =>
            `admin ${user.id} created for ${user.phone}` + (values['password-stdin'] ? '' : `\npassword (shown once): ${password}`),
          );
        } finally {
          await hasher.close();
        }
      });
    },
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(14)} ${c.summary}`);
  return `Usage: gatehouse <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nEach command takes --help. Configuration comes from environment variables (see README).`;
}

export async function main(argv: string[]): Promise<number> {
  const [first, second] = argv;
  if (!first || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(usage() + '\n');
    return first ? 0 : 2;
  }
  const twoWord = second && !second.startsWith('-') ? `${first} ${second}` : undefined;
  const name = twoWord && COMMANDS[twoWord] ? twoWord : first;
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`gatehouse: unknown command "${twoWord ?? first}"\n\n${usage()}\n`);
    return 2;
  }
  const rest = argv.slice(name.split(' ').length);
  try {
    const { values } = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
    if (values.help) {
      process.stdout.write(`${command.summary}\n\nUsage: ${command.usage}\n`);
      return 0;
    }
    await command.run(values as Record<string, string | boolean | undefined>);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`gatehouse ${name}: ${(error as Error).message}\n\nUsage: ${command.usage}\n`);
      return 2;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`gatehouse: configuration error: ${error.message}\n`);
      return 2;
    }
    if (isAppError(error)) {
      process.stderr.write(`gatehouse ${name}: ${error.code}: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`gatehouse ${name}: ${(error as Error).message ?? String(error)}\n`);
    return 1;
  }
}

const exitCode = await main(process.argv.slice(2));
// A failed command ends now, whatever handles are still open; a running server keeps going.
if (exitCode !== 0) process.exit(exitCode);
