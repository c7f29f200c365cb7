// Passkeys (WebAuthn, through @simplewebauthn/server): adding them to an account, and signing in
// with one — username-less (a discoverable credential the browser offers, autofill included) or by
// phone number (for a credential the authenticator does not keep a record of, named by the server).
//
// - Every ceremony starts with a random challenge stored single-use in the shared store with what it
//   is for (adding a passkey to this account; signing in, perhaps as the account of one phone number).
//   The response names its challenge inside the signed client data: it is taken once, so a ceremony
//   started on one worker or server finishes on another, and a replayed response finds nothing.
// - The relying party is PUBLIC_URL: its host name is the RP ID, its origin the only origin accepted.
// - A passkey whose authenticator verified its user (PIN or biometric) is two factors: it signs in
//   without the authenticator app's code, satisfies the console's second-factor rule, and, like an
//   SMS code, lifts a lockout strangers caused. One without user verification is one factor: an
//   account with two-factor sign-in then asks for the app's code, and a locked count stays locked.
import { isIP } from 'node:net';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransportFuture,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { decodeClientDataJSON, isoBase64URL, isoUint8Array } from '@simplewebauthn/server/helpers';
import type { AuditLog } from '../audit/service.js';
import type { Database } from '../db/database.js';
import type { PasskeyRow, UserRow } from '../db/schema.js';
import { isUniqueViolation } from '../db/store-errors.js';
import { AppError } from '../errors.js';
import type { KeyValueStore } from '../kv/store.js';
import type { ClientContext } from '../security/client-network.js';
import type { Lockout } from '../security/lockout.js';
import type { RateLimits } from '../security/rate-limits.js';
import { hmacHex } from '../security/tokens.js';
import type { Factor, Proof } from '../sessions/service.js';
import { createPasskeyRepo } from './repo.js';

/** How long a started ceremony waits for the authenticator (the browser's own timeout is the same). */
export const CEREMONY_TTL_MS = 5 * 60_000;
const MAX_NAME = 64;

/** The relying party: PUBLIC_URL's host name and origin. */
export interface RelyingParty {
  id: string;
  origin: string;
  name: string;
}

export function relyingPartyOf(publicUrl: string | undefined): RelyingParty | undefined {
  if (!publicUrl) return undefined;
  const url = new URL(publicUrl);
  // WebAuthn's relying-party id is a domain: browsers refuse an IP address (reach Gatehouse by name).
  if (isIP(url.hostname.replace(/^\[|\]$/g, '')) !== 0) return undefined;
  return { id: url.hostname, origin: url.origin, name: 'Gatehouse' };
}

/** What the passkeys need of the accounts feature (the composition root passes its services). */
export interface PasskeyAccounts {
  findById(id: number): Promise<UserRow | undefined>;
  /** The account of a phone number as typed (400 INVALID_PHONE for one that is not a number); undefined for none. */
  findByTypedPhone(raw: string): Promise<UserRow | undefined>;
  isTwoFactorOn(user: UserRow): boolean;
  /** The 401 TWO_FACTOR_REQUIRED error carrying a challenge whose first factor is this passkey. */
  twoFactorChallenge(user: UserRow): Promise<AppError>;
  createSession(userId: number, client: ClientContext, proof: Proof): Promise<string>;
  /** The holder of a live session proved `factor` just now; false when the session is gone. */
  recordProof(sessionId: number, factor: Factor): Promise<boolean>;
}

export interface PasskeyDeps {
  database: Database;
  kv: KeyValueStore;
  accounts: PasskeyAccounts;
  lockout: Lockout;
  rateLimits: RateLimits;
  audit: AuditLog;
  /** Key for the stand-in credential ids of phone numbers without passkeys. */
  secret: string;
  relyingParty: RelyingParty | undefined;
  now?: () => number;
}

/** A ceremony in progress: adding a passkey to an account, signing in (by phone number: only that number's account, none when it has none), or confirming it is still the owner. */
type Ceremony =
  | { kind: 'registration'; userId: number; name: string }
  | { kind: 'authentication'; byPhone: boolean; userId: number | null }
  | { kind: 'reauthentication'; userId: number };

export interface PasskeyView {
  id: number;
  name: string;
  deviceType: PasskeyRow['device_type'];
  backedUp: boolean;
  transports: string[];
  createdAt: number;
  lastUsedAt: number | null;
}

export function passkeyView(row: PasskeyRow): PasskeyView {
  return {
    id: row.id,
    name: row.name,
    deviceType: row.device_type,
    backedUp: row.backed_up === 1,
    transports: JSON.parse(row.transports) as string[],
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

export class Passkeys {
  private readonly repo;
  private readonly now: () => number;

  constructor(private readonly deps: PasskeyDeps) {
    this.repo = createPasskeyRepo(deps.database.db);
    this.now = deps.now ?? Date.now;
  }

  private get rp(): RelyingParty {
    if (!this.deps.relyingParty) throw new AppError('PASSKEYS_NOT_CONFIGURED');
    return this.deps.relyingParty;
  }

  list(userId: number): Promise<PasskeyRow[]> {
    return this.repo.listFor(userId);
  }

  hasAny(userId: number): Promise<boolean> {
    return this.repo.hasAny(userId);
  }

  /** Creation options for a new passkey of `user` (the account page asks after a re-authentication). */
  async registrationOptions(user: UserRow, name: string | undefined): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const rp = this.rp;
    const existing = await this.repo.listFor(user.id);
    const options = await generateRegistrationOptions({
      rpName: rp.name,
      rpID: rp.id,
      // The phone number is what the account signs in with; the authenticator shows it in its list.
      userName: user.phone,
      userDisplayName: user.name,
      // The account's opaque subject, never the phone: the authenticator hands it back at a username-less sign-in.
      userID: isoUint8Array.fromUTF8String(user.subject),
      timeout: CEREMONY_TTL_MS,
      attestationType: 'none',
      excludeCredentials: existing.map((row) => ({ id: row.credential_id, transports: transportsOf(row) })),
      // Discoverable when the authenticator can (username-less sign-in); a security key without room signs in by phone.
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
    const ceremony: Ceremony = { kind: 'registration', userId: user.id, name: name?.trim().slice(0, MAX_NAME) || defaultName(existing.length) };
    await this.deps.kv.put(ceremonyKey(options.challenge), JSON.stringify(ceremony), CEREMONY_TTL_MS);
    return options;
  }

  /** Verifies the new credential against its challenge and keeps it. */
  async register(user: UserRow, response: RegistrationResponseJSON, client: ClientContext): Promise<PasskeyRow> {
    const rp = this.rp;
    const ceremony = await this.takeCeremony(response.response.clientDataJSON);
    if (ceremony?.kind !== 'registration' || ceremony.userId !== user.id) throw new AppError('PASSKEY_CHALLENGE_INVALID');
    let verified;
    try {
      // The challenge was just taken from the store, which only ever held challenges this server issued.
      verified = await verifyRegistrationResponse({ response, expectedChallenge: () => true, expectedOrigin: rp.origin, expectedRPID: rp.id, requireUserVerification: false });
    } catch (error) {
      throw new AppError('PASSKEY_REGISTRATION_FAILED', { message: `The passkey could not be verified: ${(error as Error).message}` });
    }
    if (!verified.verified) throw new AppError('PASSKEY_REGISTRATION_FAILED');
    const info = verified.registrationInfo;
    let row: PasskeyRow;
    try {
      row = await this.deps.database.retrying(() =>
        this.repo.insert({
          user_id: user.id,
          credential_id: info.credential.id,
          public_key: isoBase64URL.fromBuffer(info.credential.publicKey),
          counter: info.credential.counter,
          transports: JSON.stringify(info.credential.transports ?? response.response.transports ?? []),
          device_type: info.credentialDeviceType,
          backed_up: info.credentialBackedUp ? 1 : 0,
          name: ceremony.name,
          created_at: this.now(),
          last_used_at: null,
        }),
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('PASSKEY_ALREADY_REGISTERED');
      throw error;
    }
    await this.deps.audit.record({ event: 'passkey.added', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip, detail: { passkey_id: row.id, device_type: row.device_type, backed_up: row.backed_up === 1 } });
    return row;
  }

  /**
   * Request options for a sign-in. Without a phone number: no credentials named, the browser offers
   * the discoverable ones (autofill). With one: that account's passkeys — and for a number without an
   * account or without passkeys, one stand-in id derived from the number, the same every time, so
   * that the answer does not tell which numbers have accounts.
   */
  async authenticationOptions(phone: string | undefined, client: ClientContext): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const rp = this.rp;
    await this.challengeIssued(client);
    let userId: number | null = null;
    let allowCredentials: { id: string; transports?: AuthenticatorTransportFuture[] }[] | undefined;
    if (phone !== undefined) {
      const user = await this.deps.accounts.findByTypedPhone(phone);
      const rows = user ? await this.repo.listFor(user.id) : [];
      userId = user?.id ?? null;
      allowCredentials = rows.length > 0 ? rows.map((row) => ({ id: row.credential_id, transports: transportsOf(row) })) : [{ id: this.standInCredentialId(phone) }];
    }
    const options = await generateAuthenticationOptions({ rpID: rp.id, timeout: CEREMONY_TTL_MS, userVerification: 'preferred', ...(allowCredentials ? { allowCredentials } : {}) });
    const ceremony: Ceremony = { kind: 'authentication', byPhone: phone !== undefined, userId };
    await this.deps.kv.put(ceremonyKey(options.challenge), JSON.stringify(ceremony), CEREMONY_TTL_MS);
    return options;
  }

  /** Signs in with an assertion: its account and a new session token (or 401 TWO_FACTOR_REQUIRED for a one-factor passkey of an account with two-factor sign-in). */
  async authenticate(response: AuthenticationResponseJSON, client: ClientContext): Promise<{ user: UserRow; token: string }> {
    const rp = this.rp;
    const limits = this.deps.rateLimits;
    await limits.enforceForClient(limits.loginPerIp, client);
    const ceremony = await this.takeCeremony(response.response.clientDataJSON);
    if (ceremony?.kind !== 'authentication') throw new AppError('PASSKEY_CHALLENGE_INVALID');
    const passkey = await this.repo.findByCredentialId(response.id);
    const user = passkey ? await this.deps.accounts.findById(passkey.user_id) : undefined;
    // Started for one phone number's account, finished with another's passkey: refused like an unknown one.
    if (!passkey || !user || (ceremony.byPhone && ceremony.userId !== user.id) || !userHandleMatches(response, user)) return this.refused(client, passkey ? `user:${passkey.user_id}` : null, 'unknown_credential');
    const { info, now } = await this.verifyAssertion(rp, passkey, response, () => this.refused(client, `user:${user.id}`, 'not_verified'));
    if (user.status !== 'active') throw new AppError('ACCOUNT_DISABLED');
    const failures = this.deps.lockout.counter(user.phone, client);
    if (info.userVerified) {
      // Two factors, as an SMS code proves the phone: the owner gets in while strangers keep guessing at the password, and the lock lifts.
      await failures.succeeded();
    } else {
      await failures.assertNotLocked();
      if (this.deps.accounts.isTwoFactorOn(user)) throw await this.deps.accounts.twoFactorChallenge(user);
    }
    const token = await this.deps.accounts.createSession(user.id, client, info.userVerified ? { passkey: now, passkey_verified: now } : { passkey: now });
    await this.deps.audit.record({ event: 'login.ok', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip, detail: { method: 'passkey', passkey_id: passkey.id, user_verified: info.userVerified } });
    return { user, token };
  }

  /** Request options for confirming it is still the owner, in a session that is signed in: the account's own passkeys. */
  async reauthenticationOptions(user: UserRow, client: ClientContext): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const rp = this.rp;
    await this.challengeIssued(client);
    const rows = await this.repo.listFor(user.id);
    if (rows.length === 0) throw new AppError('PASSKEY_NOT_FOUND', { message: 'This account has no passkey.' });
    const options = await generateAuthenticationOptions({ rpID: rp.id, timeout: CEREMONY_TTL_MS, userVerification: 'preferred', allowCredentials: rows.map((row) => ({ id: row.credential_id, transports: transportsOf(row) })) });
    const ceremony: Ceremony = { kind: 'reauthentication', userId: user.id };
    await this.deps.kv.put(ceremonyKey(options.challenge), JSON.stringify(ceremony), CEREMONY_TTL_MS);
    return options;
  }

  /**
   * Confirms, in a signed-in session, that its holder still has one of the account's passkeys: the
   * session's proof is renewed (sensitive actions need it recent), and with user verification it
   * gains the second factor the console needs. Whether the authenticator verified the user.
   */
  async reauthenticate(user: UserRow, sessionId: number, response: AuthenticationResponseJSON, client: ClientContext): Promise<{ userVerified: boolean }> {
    const rp = this.rp;
    const limits = this.deps.rateLimits;
    await limits.enforceForClient(limits.loginPerIp, client);
    const ceremony = await this.takeCeremony(response.response.clientDataJSON);
    if (ceremony?.kind !== 'reauthentication' || ceremony.userId !== user.id) throw new AppError('PASSKEY_CHALLENGE_INVALID');
    const passkey = await this.repo.findByCredentialId(response.id);
    const failed = (reason: string) => async (): Promise<never> => {
      await this.deps.audit.record({ event: 'session.reauthentication_failed', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip, detail: { factor: 'passkey', reason } });
      throw new AppError('PASSKEY_INVALID');
    };
    if (!passkey || passkey.user_id !== user.id) return failed('unknown_credential')();
    await this.deps.lockout.counter(user.phone, client).assertNotLocked();
    const { info } = await this.verifyAssertion(rp, passkey, response, failed('not_verified'));
    const proved = (await this.deps.accounts.recordProof(sessionId, 'passkey')) && (!info.userVerified || (await this.deps.accounts.recordProof(sessionId, 'passkey_verified')));
    if (!proved) throw new AppError('UNAUTHENTICATED');
    await this.deps.audit.record({ event: 'session.reauthenticated', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip, detail: { factor: 'passkey', passkey_id: passkey.id, user_verified: info.userVerified } });
    return { userVerified: info.userVerified };
  }

  /** Checks an assertion's signature, origin and RP ID against the stored key, and keeps what the authenticator said (counter, backup state). */
  private async verifyAssertion(rp: RelyingParty, passkey: PasskeyRow, response: AuthenticationResponseJSON, refuse: () => Promise<never>) {
    let verified;
    try {
      verified = await verifyAuthenticationResponse({
        response,
        // The challenge was just taken from the store, which only ever held challenges this server issued.
        expectedChallenge: () => true,
        expectedOrigin: rp.origin,
        expectedRPID: rp.id,
        credential: { id: passkey.credential_id, publicKey: isoBase64URL.toBuffer(passkey.public_key), counter: passkey.counter, transports: transportsOf(passkey) },
        requireUserVerification: false,
      });
    } catch {
      return refuse();
    }
    if (!verified.verified) return refuse();
    const info = verified.authenticationInfo;
    const now = this.now();
    await this.deps.database.retrying(() => this.repo.used(passkey.id, { counter: info.newCounter, backed_up: info.credentialBackedUp ? 1 : 0, device_type: info.credentialDeviceType, last_used_at: now }));
    return { info, now };
  }

  async rename(userId: number, id: number, name: string): Promise<PasskeyRow> {
    const row = await this.deps.database.retrying(() => this.repo.rename(id, userId, name.trim().slice(0, MAX_NAME)));
    if (!row) throw new AppError('PASSKEY_NOT_FOUND');
    return row;
  }

  async remove(userId: number, id: number, client: ClientContext): Promise<void> {
    const row = await this.deps.database.retrying(() => this.repo.delete(id, userId));
    if (!row) throw new AppError('PASSKEY_NOT_FOUND');
    await this.deps.audit.record({ event: 'passkey.deleted', actor: `user:${userId}`, target: `user:${userId}`, ip: client.ip, detail: { passkey_id: id } });
  }

  /**
   * A challenge costs the store an entry for 5 minutes, as a captcha does, and is counted like one
   * (RATE_LIMIT_CAPTCHA_PER_IP): a login page arms the autofill on every visit, and that must not
   * spend the address's sign-in budget, which the assertion itself is charged to.
   */
  private challengeIssued(client: ClientContext): Promise<unknown> {
    const limits = this.deps.rateLimits;
    return limits.enforceForClient(limits.captchaPerIp, client);
  }

  /** The ceremony a response's signed client data names, taken once; null for a challenge not issued, expired or used. */
  private async takeCeremony(clientDataJSON: string): Promise<Ceremony | null> {
    let challenge: string;
    try {
      challenge = decodeClientDataJSON(clientDataJSON).challenge;
    } catch {
      return null;
    }
    if (typeof challenge !== 'string' || !/^[A-Za-z0-9_-]{16,128}$/.test(challenge)) return null;
    const found = await this.deps.kv.takeOnce(ceremonyKey(challenge));
    return found === null ? null : (JSON.parse(found) as Ceremony);
  }

  private async refused(client: ClientContext, target: string | null, reason: string): Promise<never> {
    await this.deps.audit.record({ event: 'login.failed', target, ip: client.ip, detail: { method: 'passkey', reason } });
    throw new AppError('PASSKEY_INVALID');
  }

  private standInCredentialId(phone: string): string {
    return isoBase64URL.fromBuffer(Buffer.from(hmacHex(this.deps.secret, 'passkey stand-in', phone.replace(/\D/g, '')), 'hex'));
  }
}

function ceremonyKey(challenge: string): string {
  return `passkey-ceremony:${challenge}`;
}

function defaultName(count: number): string {
  return count === 0 ? 'Passkey' : `Passkey ${count + 1}`;
}

function transportsOf(row: PasskeyRow): AuthenticatorTransportFuture[] {
  return JSON.parse(row.transports) as AuthenticatorTransportFuture[];
}

/** A discoverable credential hands back the user id it was made with: it must be this account's subject. */
function userHandleMatches(response: AuthenticationResponseJSON, user: UserRow): boolean {
  const handle = response.response.userHandle;
  if (!handle) return true;
  try {
    return isoUint8Array.toUTF8String(isoBase64URL.toBuffer(handle)) === user.subject;
  } catch {
    return false;
  }
}
