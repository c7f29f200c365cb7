// Forward-auth rules: for each protected host, which organizations and roles may enter. A host
// without a rule is refused to everyone (default deny, like Authelia's default_policy: deny), so a
// proxy pointed at Gatehouse by mistake opens nothing. Platform administrators set and remove rules
// from the console or the command line, each change audited; every check reads them from memory,
// at most RULES_TTL_MS old.
import type { AuditLog } from '../audit/service.js';
import { ReadThroughCache } from '../cache/read-through.js';
import type { Database } from '../db/database.js';
import type { ForwardAuthRuleRow, Role } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import type { OrgService } from '../orgs/service.js';
import { actorName, requirePlatform, type Principal } from '../principal.js';
import { createForwardAuthRuleRepo } from './repo.js';
import { normalizeRuleHost } from './urls.js';

/** How long a process answers from the rules it last read: a change made on another worker or server applies within this. */
export const RULES_TTL_MS = 5_000;

export interface ForwardAuthRule {
  host: string;
  /** The organizations whose members may enter; null: every organization. */
  allowedOrganizationIds: readonly number[] | null;
  /** The roles that may enter; null: every role. */
  allowedRoles: readonly Role[] | null;
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
}

/** What a rule allows: both null lets in anyone signed in. */
export interface RuleAccess {
  organizationIds: readonly number[] | null;
  roles: readonly Role[] | null;
}

/** Whether the rule lets this person in: their organization and their role must both be allowed. */
export function admits(rule: Pick<ForwardAuthRule, 'allowedOrganizationIds' | 'allowedRoles'>, person: { organizationId: number; role: Role }): boolean {
  return (rule.allowedOrganizationIds === null || rule.allowedOrganizationIds.includes(person.organizationId)) && (rule.allowedRoles === null || rule.allowedRoles.includes(person.role));
}

const list = (json: string | null) => (json === null ? null : (JSON.parse(json) as unknown[]));

function toRule(row: ForwardAuthRuleRow): ForwardAuthRule {
  return {
    host: row.host,
    allowedOrganizationIds: list(row.allowed_organization_ids) as number[] | null,
    allowedRoles: list(row.allowed_roles) as Role[] | null,
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** A list without repeats, or null for "any"; an empty list would let nobody in, which is no rule at all. */
function listOrAny<T>(values: readonly T[] | null, what: string): T[] | null {
  if (values === null) return null;
  if (values.length === 0) throw new AppError('VALIDATION_FAILED', { message: `Give at least one ${what}, or none at all to allow every ${what}.` });
  return [...new Set(values)];
}

export class ForwardAuthRules {
  private readonly repo;
  private readonly cache: ReadThroughCache<ReadonlyMap<string, ForwardAuthRule>>;
  private readonly now: () => number;

  constructor(
    private readonly database: Database,
    private readonly deps: { orgs: Pick<OrgService, 'findOrganization'>; audit: AuditLog; metrics?: Metrics | undefined; now?: () => number },
  ) {
    this.repo = createForwardAuthRuleRepo(database.db);
    this.now = deps.now ?? Date.now;
    // One entry, the whole table: a school protects tens of hosts, and a probe of a thousand unknown
    // hosts then costs one query per TTL, not one each.
    this.cache = new ReadThroughCache({
      name: 'forward-auth-rules',
      ttlMs: RULES_TTL_MS,
      maxEntries: 1,
      load: async () => new Map((await this.repo.list()).map((row) => [row.host, toRule(row)])),
      onLookup: (outcome) => deps.metrics?.cacheLookups.inc({ cache: 'forward_auth_rules', outcome }),
      now: this.now,
    });
  }

  /** Every rule, read now (the console, the command line). */
  async list(): Promise<ForwardAuthRule[]> {
    return (await this.repo.list()).map(toRule);
  }

  /** The rules by host, as this process last read them (at most RULES_TTL_MS ago). */
  current(): Promise<ReadonlyMap<string, ForwardAuthRule>> {
    return this.cache.get('rules');
  }

  /** Creates the host's rule or replaces what it allows; INVALID_HOST, ORGANIZATION_NOT_FOUND. */
  async set(by: Principal, rawHost: string, access: RuleAccess): Promise<ForwardAuthRule> {
    requirePlatform(by, 'change forward-auth rules');
    const host = normalizeRuleHost(rawHost);
    const organizationIds = listOrAny(access.organizationIds, 'organization');
    const roles = listOrAny(access.roles, 'role');
    for (const id of organizationIds ?? []) {
      if (!(await this.deps.orgs.findOrganization(id))) throw new AppError('ORGANIZATION_NOT_FOUND', { message: `No organization ${id}.` });
    }
    const at = this.now();
    const row = await this.database.retrying(() =>
      this.repo.put({
        host,
        allowed_organization_ids: organizationIds === null ? null : JSON.stringify(organizationIds),
        allowed_roles: roles === null ? null : JSON.stringify(roles),
        created_by: actorName(by),
        created_at: at,
        updated_at: at,
      }),
    );
    this.cache.clear();
    await this.deps.audit.recordBy(by, { event: 'admin.forward_auth_rule_set', target: `host:${host}`, detail: { organization_ids: organizationIds, roles } });
    return toRule(row);
  }

  /** Removes the host's rule: the host is refused to everyone again; FORWARD_AUTH_RULE_NOT_FOUND. */
  async remove(by: Principal, rawHost: string): Promise<ForwardAuthRule> {
    requirePlatform(by, 'change forward-auth rules');
    const host = normalizeRuleHost(rawHost);
    const row = await this.database.retrying(() => this.repo.remove(host));
    if (!row) throw new AppError('FORWARD_AUTH_RULE_NOT_FOUND', { message: `No forward-auth rule for ${host}.` });
    this.cache.clear();
    await this.deps.audit.recordBy(by, { event: 'admin.forward_auth_rule_removed', target: `host:${host}` });
    return toRule(row);
  }
}

/** A rule as the API and the command line show it. */
export function ruleJson(rule: ForwardAuthRule) {
  return {
    host: rule.host,
    allowed_organization_ids: rule.allowedOrganizationIds === null ? null : [...rule.allowedOrganizationIds],
    allowed_roles: rule.allowedRoles === null ? null : [...rule.allowedRoles],
    created_by: rule.createdBy,
    created_at: new Date(rule.createdAt).toISOString(),
    updated_at: new Date(rule.updatedAt).toISOString(),
  };
}
