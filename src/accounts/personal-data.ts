// What Gatehouse holds about one person, as they download it from their account page: the account,
// its organization, its live sessions, its passkeys and the security events it took part in (a copy of one's own
// personal data, as data-protection law such as PIPL Art. 45 or GDPR Art. 15 gives the right to).
import type { AuditLog } from '../audit/service.js';
import type { UserRow } from '../db/schema.js';
import type { OrgService } from '../orgs/service.js';
import type { SessionService } from '../sessions/service.js';

/** The newest security events included; older ones are deleted after AUDIT_RETENTION_DAYS anyway. */
const MAX_EVENTS = 1000;

export interface PersonalData {
  exported_at: string;
  account: {
    id: number;
    name: string;
    phone: string;
    role: string;
    status: string;
    registered_at: string;
    invitation_code: string | null;
    password_set: boolean;
    two_factor_enabled: boolean;
  };
  organization: { id: number; name: string } | null;
  sessions: Array<{ created_at: string; last_seen_at: string; ip: string | null; user_agent: string | null }>;
  /** Names and dates only: a passkey's public key and id say nothing more about the person. */
  passkeys: Array<{ name: string; created_at: string; last_used_at: string | null }>;
  /** `by`: whether the person did it themselves, or an administrator (who is not named) did it to the account. */
  security_events: Array<{ at: string; event: string; by: 'you' | 'administrator'; ip: string | null }>;
}

export interface PersonalDataDeps {
  orgs: Pick<OrgService, 'findOrganization'>;
  sessions: SessionService;
  audit?: AuditLog | undefined;
  /** The account's passkeys (the passkeys feature, passed by the composition root). */
  passkeysOf?: ((userId: number) => Promise<Array<{ name: string; created_at: number; last_used_at: number | null }>>) | undefined;
}

const iso = (ms: number) => new Date(ms).toISOString();

export async function personalData(deps: PersonalDataDeps, user: UserRow, now: number): Promise<PersonalData> {
  const self = `user:${user.id}`;
  const [organization, sessions, events, passkeys] = await Promise.all([
    deps.orgs.findOrganization(user.organization_id),
    deps.sessions.list(user.id),
    deps.audit?.aboutUser(user.id, MAX_EVENTS) ?? [],
    deps.passkeysOf?.(user.id) ?? [],
  ]);
  return {
    exported_at: iso(now),
    account: {
      id: user.id,
      name: user.name,
      phone: user.phone,
      role: user.role,
      status: user.status,
      registered_at: iso(user.created_at),
      invitation_code: user.invitation_code,
      password_set: user.password_hash !== null,
      // That there is an authenticator secret, not the secret: the download must not be a second factor.
      two_factor_enabled: user.totp_enabled_at !== null,
    },
    organization: organization ? { id: organization.id, name: organization.name } : null,
    sessions: sessions.map((s) => ({ created_at: iso(s.created_at), last_seen_at: iso(s.last_seen_at), ip: s.ip, user_agent: s.user_agent })),
    passkeys: passkeys.map((p) => ({ name: p.name, created_at: iso(p.created_at), last_used_at: p.last_used_at === null ? null : iso(p.last_used_at) })),
    // An administrator's own events about the account show what was done, not which administrator.
    security_events: events.map((e) => ({ at: e.at, event: e.event, by: e.actor === self ? 'you' : 'administrator', ip: e.actor === self ? e.ip : null })),
  };
}
