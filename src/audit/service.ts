// The audit log: security events in an append-only table (nothing updates a row; old rows are
// deleted after the retention period), readable and filterable by admins.
import { sql } from 'kysely';
import { readAt, type Database, type Db, type Freshness } from '../db/database.js';
import type { AuditEventRow } from '../db/schema.js';
import { actorName, addressOf, type Principal } from '../principal.js';

export type AuditEventName =
  | 'login.ok'
  | 'login.failed'
  | 'login.locked'
  | 'login.sms'
  | 'register'
  | 'logout'
  | 'session.revoked'
  | 'session.revoked_others'
  | 'password.reset'
  | 'password.changed'
  | 'account.deleted'
  | 'phone.changed'
  | 'sms.sent'
  | 'apikey.created'
  | 'apikey.revoked'
  | 'task.retried'
  | 'admin.user_unlocked'
  | 'admin.rate_limits_reset'
  | 'admin.invitation_created'
  | 'admin.invitation_revoked'
  | 'admin.invitation_rotated'
  | 'admin.invitation_changed'
  | 'admin.created'
  | 'admin.organization_changed'
  | 'admin.organization_deleted'
  | 'admin.roster_imported'
  | 'admin.roster_exported'
  | 'admin.export_downloaded'
  | 'admin.sms_outbox_read'
  | 'admin.user_disabled'
  | 'admin.user_enabled'
  | 'admin.user_changed'
  | 'admin.user_deleted'
  | 'admin.password_reset_forced'
  | 'admin.session_revoked'
  | 'admin.two_factor_reset'
  | 'admin.forward_auth_rule_set'
  | 'admin.forward_auth_rule_removed'
  | 'two_factor.enabled'
  | 'two_factor.disabled'
  | 'two_factor.disable_failed'
  | 'session.reauthenticated'
  | 'session.reauthentication_failed'
  | 'oidc_client.created'
  | 'oidc_client.updated'
  | 'oidc_client.secret_rotated'
  | 'oidc_client.disabled'
  | 'oidc_client.enabled'
  | 'oidc_client.deleted'
  | 'oidc.consent_given'
  | 'oidc.app_disconnected'
  | 'oidc.keys_rotated'
  | 'sign_in_provider.set'
  | 'sign_in_provider.enabled'
  | 'sign_in_provider.disabled'
  | 'identity.linked'
  | 'identity.unlinked'
  | 'passkey.added'
  | 'passkey.deleted';

export interface AuditEntry {
  event: AuditEventName;
  actor?: string | null | undefined;
  target?: string | null | undefined;
  ip?: string | null | undefined;
  detail?: Record<string, unknown> | undefined;
}

export interface AuditFilter {
  event?: string | undefined;
  actor?: string | undefined;
  target?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
  /** Rows with an id below this (paging backwards). */
  beforeId?: number | undefined;
  /**
   * Only events about this organization: its target is the organization or one of its present
   * members (an organization administrator's view). Joined through the target, so that it covers the
   * events written before organization administrators existed; an event about someone who has since
   * left or been deleted drops out of the view, and one about a newcomer's past comes in.
   */
  organizationId?: number | undefined;
  limit: number;
}

export interface AuditEventView {
  id: number;
  at: string;
  event: string;
  actor: string | null;
  target: string | null;
  ip: string | null;
  detail: unknown;
}

function toView(row: AuditEventRow): AuditEventView {
  return { id: row.id, at: new Date(row.at).toISOString(), event: row.event, actor: row.actor, target: row.target, ip: row.ip, detail: row.detail === null ? null : JSON.parse(row.detail) };
}

export class AuditLog {
  private readonly now: () => number;

  constructor(private readonly database: Database, options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
  }

  /** The insert for `entry`, to run inside a caller's transaction (so that the event and its cause commit together). */
  insertWith(trx: Db, entry: AuditEntry) {
    return trx
      .insertInto('audit_events')
      .values({
        at: this.now(),
        event: entry.event,
        actor: entry.actor ?? null,
        target: entry.target ?? null,
        ip: entry.ip ?? null,
        detail: entry.detail === undefined ? null : JSON.stringify(entry.detail),
      })
      .execute();
  }

  /** Records an event on its own, sharing a group commit with other writes of the moment. */
  async record(entry: AuditEntry): Promise<void> {
    await this.database.batched((trx) => this.insertWith(trx, entry));
  }

  /** Records what `by` did: the principal is the event's actor, and its address the event's. */
  recordBy(by: Principal, entry: Omit<AuditEntry, 'actor' | 'ip'>): Promise<void> {
    return this.record({ ...entry, actor: actorName(by), ip: addressOf(by) });
  }

  async list(filter: AuditFilter, freshness: Freshness = 'latest'): Promise<AuditEventView[]> {
    return readAt(this.database, freshness, (db) => this.query(db, filter));
  }

  private async query(db: Db, filter: AuditFilter): Promise<AuditEventView[]> {
    let query = db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(filter.limit);
    if (filter.event) query = filter.event.endsWith('.*') ? query.where('event', 'like', `${filter.event.slice(0, -1)}%`) : query.where('event', '=', filter.event);
    if (filter.actor) query = query.where('actor', '=', filter.actor);
    if (filter.target) query = query.where('target', '=', filter.target);
    if (filter.since !== undefined) query = query.where('at', '>=', filter.since);
    if (filter.until !== undefined) query = query.where('at', '<', filter.until);
    if (filter.beforeId !== undefined) query = query.where('id', '<', filter.beforeId);
    if (filter.organizationId !== undefined) {
      const organizationId = filter.organizationId;
      query = query.where((eb) =>
        eb.or([
          eb('target', '=', `organization:${organizationId}`),
          eb('target', 'in', eb.selectFrom('users').select(sql<string>`'user:' || cast(id as text)`.as('target')).where('organization_id', '=', organizationId)),
        ]),
      );
    }
    return (await query.execute()).map(toView);
  }

  /** Events one account took part in (as actor or target), newest first. */
  async aboutUser(userId: number, limit: number): Promise<AuditEventView[]> {
    const who = `user:${userId}`;
    const rows = await this.database.db
      .selectFrom('audit_events')
      .selectAll()
      .where((eb) => eb.or([eb('actor', '=', who), eb('target', '=', who)]))
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toView);
  }

  /** Deletes events older than the retention period; returns how many. */
  async sweep(retentionDays: number): Promise<number> {
    const cutoff = this.now() - retentionDays * 86_400_000;
    const result = await this.database.write((trx) => trx.deleteFrom('audit_events').where('at', '<', cutoff).executeTakeFirst());
    return Number(result.numDeletedRows);
  }
}
