import { randomUUID } from 'node:crypto';
// Every query of the users table. The rest of accounts/ works through this; other features work
// through accounts' services, never through this file.
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { NewUser, Role, UserRow } from '../db/schema.js';

/** One member of an organization, as a roster export lists them. */
export interface MemberRow {
  id: number;
  name: string;
  phone: string;
  role: Role;
  status: UserRow['status'];
  created_at: number;
  invitation_code: string | null;
  password_set: boolean;
}

/** What an administrator may correct in an account. */
export interface AccountCorrections {
  name?: string;
  phone?: string;
  organization_id?: number;
  role?: Role;
}

/** A new account as its creators describe it: the repository gives it its subject. */
export type NewAccount = Omit<NewUser, 'subject'>;

/** Every account gets a random opaque subject at birth, so that no other system ever learns its id or phone. */
const withSubject = (user: NewAccount): NewUser => ({ ...user, subject: randomUUID() });

const changed = (result: { numUpdatedRows: bigint }) => Number(result.numUpdatedRows) > 0;

export function createAccountRepo(db: Db) {
  return {
    insertUser(user: NewAccount): Promise<UserRow> {
      return db.insertInto('users').values(withSubject(user)).returningAll().executeTakeFirstOrThrow();
    },
    findByPhone(phone: string): Promise<UserRow | undefined> {
      return db.selectFrom('users').selectAll().where('phone', '=', phone).executeTakeFirst();
    },
    findById(id: number): Promise<UserRow | undefined> {
      return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    },
    findBySubject(subject: string): Promise<UserRow | undefined> {
      return db.selectFrom('users').selectAll().where('subject', '=', subject).executeTakeFirst();
    },
    /** Inserts the users whose phone is free; returns the new accounts' ids by phone. */
    async insertIfAbsent(users: NewAccount[]): Promise<Map<string, number>> {
      if (users.length === 0) return new Map();
      const inserted = await db
        .insertInto('users')
        .values(users.map(withSubject))
        .onConflict((oc) => oc.column('phone').doNothing())
        .returning(['phone', 'id'])
        .execute();
      return new Map(inserted.map((r) => [r.phone, r.id]));
    },
    /** Users whose phone (3+ digits) or name contains the query, newest first; optionally in one organization. */
    search(query: string, limit: number, organizationId?: number): Promise<UserRow[]> {
      const q = query.trim();
      let select = db.selectFrom('users').selectAll().orderBy('id', 'desc').limit(limit);
      if (organizationId !== undefined) select = select.where('organization_id', '=', organizationId);
      if (q) {
        const digits = q.replace(/[^\d]/g, '');
        const pattern = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        select = select.where((eb) =>
          digits.length >= 3 ? eb.or([eb('phone', 'like', `%${digits}%`), eb('name', 'like', pattern)]) : eb('name', 'like', pattern),
        );
      }
      return select.execute();
    },
    async phoneExists(phone: string): Promise<boolean> {
      return (await db.selectFrom('users').select('id').where('phone', '=', phone).executeTakeFirst()) !== undefined;
    },
    /** One page of an organization's members, by id, after `afterId`. */
    async membersPage(organizationId: number, afterId: number, limit: number): Promise<MemberRow[]> {
      const rows = await db
        .selectFrom('users')
        .select(['id', 'name', 'phone', 'role', 'status', 'created_at', 'invitation_code'])
        .select((eb) => eb('password_hash', 'is not', null).as('password_set'))
        .where('organization_id', '=', organizationId)
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(limit)
        .execute();
      // SQLite answers a comparison with 0/1, PostgreSQL with a boolean.
      return rows.map((r) => ({ ...r, created_at: Number(r.created_at), password_set: Boolean(r.password_set) }));
    },
    /** Registrations with an invitation code per minute since `since`. */
    async registrationsPerMinute(invitationCode: string, since: number): Promise<Array<{ minute: number; count: number }>> {
      const rows = await db
        .selectFrom('users')
        .select((eb) => [sql<number>`(created_at / 60000) * 60000`.as('minute'), eb.fn.countAll<number>().as('count')])
        .where('invitation_code', '=', invitationCode)
        .where('created_at', '>=', since)
        .groupBy(sql`created_at / 60000`)
        .orderBy('minute')
        .execute();
      return rows.map((r) => ({ minute: Number(r.minute), count: Number(r.count) }));
    },
    /** A new password hash (null: none, the owner sets one with an SMS code); the account as it is now. */
    setPasswordHash(userId: number, passwordHash: string | null, now: number): Promise<UserRow | undefined> {
      return db.updateTable('users').set({ password_hash: passwordHash, updated_at: now }).where('id', '=', userId).returningAll().executeTakeFirst();
    },
    /** A re-hash of the same password, only if the stored hash is still the one verified. */
    async upgradePasswordHash(userId: number, verifiedHash: string, upgraded: string): Promise<void> {
      await db.updateTable('users').set({ password_hash: upgraded }).where('id', '=', userId).where('password_hash', '=', verifiedHash).execute();
    },
    /** A new phone number, proven by a code sent to it. */
    setPhone(userId: number, phone: string, now: number): Promise<UserRow | undefined> {
      return db.updateTable('users').set({ phone, phone_verified_at: now, updated_at: now }).where('id', '=', userId).returningAll().executeTakeFirst();
    },
    /**
     * Records that an SMS code proved the account's phone; `clearPassword` also removes a password
     * set before the phone was ever proven. Only while unproven: of two concurrent proofs, one does it.
     */
    proveUnprovenPhone(userId: number, now: number, clearPassword: boolean): Promise<UserRow | undefined> {
      return db
        .updateTable('users')
        .set({ phone_verified_at: now, updated_at: now, ...(clearPassword ? { password_hash: null } : {}) })
        .where('id', '=', userId)
        .where('phone_verified_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
    },
    async markPhoneProven(userId: number, now: number): Promise<void> {
      await db.updateTable('users').set({ phone_verified_at: now }).where('id', '=', userId).execute();
    },
    setStatus(userId: number, status: UserRow['status'], now: number): Promise<UserRow | undefined> {
      return db.updateTable('users').set({ status, updated_at: now }).where('id', '=', userId).returningAll().executeTakeFirst();
    },
    /** An administrator's correction; a corrected phone number is not proven until its owner uses a code sent to it. */
    correct(userId: number, corrections: AccountCorrections, now: number): Promise<UserRow | undefined> {
      return db
        .updateTable('users')
        .set({ ...corrections, ...(corrections.phone !== undefined ? { phone_verified_at: null } : {}), updated_at: now }).where('id', '=', userId).returningAll().executeTakeFirst();
    },
    delete(userId: number): Promise<UserRow | undefined> {
      return db.deleteFrom('users').where('id', '=', userId).returningAll().executeTakeFirst();
    },
    /** Turns two-factor sign-in on, unless it is on already; whether it did. */
    async enableTotp(userId: number, sealedSecret: string, recoveryHashes: string[], now: number): Promise<boolean> {
      return changed(
        await db
          .updateTable('users')
          .set({ totp_secret: sealedSecret, totp_enabled_at: now, totp_recovery_codes: JSON.stringify(recoveryHashes), updated_at: now })
          .where('id', '=', userId)
          .where('totp_enabled_at', 'is', null)
          .executeTakeFirst(),
      );
    },
    /** Turns two-factor sign-in off, if it is on; whether it did. */
    async disableTotp(userId: number, now: number): Promise<boolean> {
      return changed(
        await db
          .updateTable('users')
          .set({ totp_secret: null, totp_enabled_at: null, totp_recovery_codes: null, updated_at: now })
          .where('id', '=', userId)
          .where('totp_enabled_at', 'is not', null)
          .executeTakeFirst(),
      );
    },
    /** Replaces the recovery codes' list, only if it is still the one read (of two requests with one code, one wins). */
    async replaceRecoveryCodes(userId: number, read: string, left: string[]): Promise<boolean> {
      return changed(await db.updateTable('users').set({ totp_recovery_codes: JSON.stringify(left) }).where('id', '=', userId).where('totp_recovery_codes', '=', read).executeTakeFirst());
    },
  };
}

export type AccountRepo = ReturnType<typeof createAccountRepo>;
