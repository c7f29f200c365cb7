// What the provider says about an account: the claims per scope, and how its session was authenticated.
import type { SessionRow, UserRow } from '../db/schema.js';
import { latestProofAt } from '../http/auth.js';

/** The scopes a client may ask for, and the claims each releases (OpenID Connect Core §5.4, and Gatehouse's organization). */
export const SCOPE_CLAIMS = {
  // How the user authenticated goes with every ID token, as Keycloak and Zitadel do: apps that ask
  // for a second factor check acr/amr without having to send a claims request.
  openid: ['sub', 'acr', 'amr', 'auth_time'],
  profile: ['name', 'updated_at'],
  phone: ['phone_number', 'phone_number_verified'],
  organization: ['organization'],
} as const;

export const SCOPES = ['openid', 'offline_access', 'profile', 'phone', 'organization'] as const;

/** Authentication context classes: one factor, or two (RFC 8176 amr values say which). */
export const ACR = { oneFactor: 'urn:gatehouse:acr:1fa', twoFactors: 'urn:gatehouse:acr:2fa' } as const;

export interface AccountFacts {
  user: UserRow;
  organizationName: string;
}

export function accountClaims({ user, organizationName }: AccountFacts): { sub: string } & Record<string, unknown> {
  return {
    sub: user.subject,
    name: user.name,
    updated_at: Math.floor(user.updated_at / 1000),
    phone_number: user.phone,
    phone_number_verified: user.phone_verified_at !== null,
    organization: { id: String(user.organization_id), name: organizationName, role: user.role },
  };
}

/** How the session was authenticated, as OpenID Connect's amr (RFC 8176 values) and acr, with the time of its latest proof (seconds). */
export function authenticationOf(session: SessionRow): { amr: string[]; acr: string; authTime: number | undefined } {
  const amr: string[] = [];
  if (session.password_at !== null) amr.push('pwd');
  if (session.sms_at !== null) amr.push('sms');
  if (session.second_factor_at !== null) amr.push('otp');
  // Not in RFC 8176's registry, but the value identity providers use for a sign-in through another one.
  if (session.federated_at !== null) amr.push('fed');
  // A passkey is proof of possession of a key its authenticator holds: 'hwk' (RFC 8176 §2), since the
  // private key never leaves the authenticator — a security key, the phone's secure enclave, or a
  // platform keychain that syncs it end to end; 'swk' would say the key sat in ordinary software,
  // which no WebAuthn authenticator admits to. When the authenticator verified its user (a PIN or a
  // biometric: WebAuthn does not say which, so neither 'pin' nor 'fpt'), 'user' records it, and the
  // key and that verification are two factors: 'mfa' and the two-factor acr, as Gatehouse's
  // console rule treats them.
  let factors = amr.length;
  if (session.passkey_at !== null) {
    amr.push('hwk');
    factors++;
    if (session.passkey_verified_at !== null) {
      amr.push('user');
      factors++;
    }
  }
  if (factors > 1) amr.push('mfa');
  const latest = latestProofAt(session);
  return { amr, acr: factors > 1 ? ACR.twoFactors : ACR.oneFactor, authTime: latest === null ? undefined : Math.floor(latest / 1000) };
}

/** Whether the client admits this account (a client may be limited to some organizations or roles). */
export function clientAdmits(client: { allowedOrganizationIds: readonly number[] | null; allowedRoles: readonly string[] | null }, user: UserRow): boolean {
  if (client.allowedOrganizationIds && !client.allowedOrganizationIds.includes(user.organization_id)) return false;
  if (client.allowedRoles && !client.allowedRoles.includes(user.role)) return false;
  return true;
}
