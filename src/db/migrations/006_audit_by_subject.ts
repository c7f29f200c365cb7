import type { Kysely, Migration } from 'kysely';

/**
 * The audit log read by who: the console's actor and target filters, and a person's download of
 * their own events, without a scan of every event kept (AUDIT_RETENTION_DAYS of them).
 */
export const auditBySubject: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createIndex('audit_events_by_actor').on('audit_events').columns(['actor', 'id']).execute();
    await db.schema.createIndex('audit_events_by_target').on('audit_events').columns(['target', 'id']).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropIndex('audit_events_by_target').execute();
    await db.schema.dropIndex('audit_events_by_actor').execute();
  },
};
