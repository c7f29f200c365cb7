// The console provider's outbox: the messages it "sent", codes in plain text, for development and
// first installs. Reading it shows live sign-in codes, so every read is in the audit log; and rows
// are deleted after SMS_OUTBOX_RETENTION_HOURS, long after their codes have expired.
import type { AuditLog } from '../audit/service.js';
import type { Database } from '../db/database.js';
import type { Principal } from '../principal.js';
import { maskPhone } from '../text/phone.js';

export interface OutboxMessage {
  id: number;
  at: string;
  phone: string;
  purpose: string;
  message: string;
}

export class SmsOutbox {
  private readonly now: () => number;

  constructor(
    private readonly database: Database,
    private readonly deps: { audit: AuditLog; retentionHours: number; now?: () => number },
  ) {
    this.now = deps.now ?? Date.now;
  }

  /** Messages newest first, of one phone (E.164) or all; the read is recorded as `admin.sms_outbox_read`. */
  async read(by: Principal, filter: { phone?: string | undefined; limit: number }): Promise<OutboxMessage[]> {
    let query = this.database.db.selectFrom('sms_outbox').select(['id', 'at', 'phone', 'purpose', 'message']).orderBy('id', 'desc').limit(filter.limit);
    if (filter.phone) query = query.where('phone', '=', filter.phone);
    const rows = await query.execute();
    await this.deps.audit.recordBy(by, {
      event: 'admin.sms_outbox_read',
      target: filter.phone ? `phone:${maskPhone(filter.phone)}` : 'sms_outbox',
      detail: { messages: rows.length, ...(rows.length ? { newest_id: rows[0]!.id } : {}) },
    });
    return rows.map((r) => ({ ...r, at: new Date(r.at).toISOString() }));
  }

  /** Deletes the messages past their retention; returns how many. */
  async sweepExpired(): Promise<number> {
    const cutoff = this.now() - this.deps.retentionHours * 3_600_000;
    const result = await this.database.write((trx) => trx.deleteFrom('sms_outbox').where('at', '<=', cutoff).executeTakeFirst());
    return Number(result.numDeletedRows);
  }
}
