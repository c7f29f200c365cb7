// Signing in through an upstream provider, from the button to a session:
//
// 1. start: a random `state`, the adapter's secrets (PKCE verifier, nonce) and where to go afterwards
//    are stored single-use in the shared store, bound to this browser by a cookie's hash; the browser
//    goes to the provider.
// 2. finish (the callback): the state is taken once (a replayed or forged callback finds nothing), the
//    browser must be the one that started it, and the adapter exchanges the code for who came back.
//    A linked identity signs its account in (with its second factor, if it has one); an unknown one
//    becomes a pending sign-in, held for 15 minutes under a second cookie.
// 3. the pending sign-in proves a phone number by SMS code: the identity links to the account with
//    that number, or a new account is registered with it (an invitation code, unless the provider is
//    bound to an organization). Nothing is written before the proof, and nothing is merged by name.
//
// Every step keeps its state in the shared store, so a flow started on one worker or server finishes on
// another. The pieces the flow uses from other features come in as small interfaces.
import type { CountryCode } from 'libphonenumber-js';
import type { AuditLog } from '../audit/service.js';
import type { Db } from '../db/database.js';
import type { UserRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { KeyValueStore } from '../kv/store.js';
import type { ClientContext } from '../security/client-network.js';
import type { Lockout } from '../security/lockout.js';
import type { RateLimits } from '../security/rate-limits.js';
import { randomString, randomToken, secretsEqual, sha256Hex } from '../security/tokens.js';
import type { Proof } from '../sessions/service.js';
import { maskPhone, normalizePhone } from '../text/phone.js';
import { safeReturnTo } from '../text/return-to.js';
import type { Identities } from './identities.js';
import { providerName } from './provider-rules.js';
import type { SignInProviders } from './registry.js';
import { UpstreamError, type ExternalIdentity, type ProviderName, type ProviderSettings } from './types.js';
import type { Upstreams } from './upstreams.js';

/** How long a started sign-in waits for the browser to come back from the provider. */
export const STATE_TTL_MS = 10 * 60_000;
/** How long a sign-in with an unknown identity waits for its phone number. */
export const PENDING_TTL_MS = 15 * 60_000;

/** What the flow needs of the accounts feature (the composition root passes its services). */
export interface FlowAccounts {
  findById(id: number): Promise<UserRow | undefined>;
  findByPhone(e164: string): Promise<UserRow | undefined>;
  isTwoFactorOn(user: UserRow): boolean;
  /** The 401 TWO_FACTOR_REQUIRED error carrying a challenge whose first factor is this sign-in. */
  twoFactorChallenge(user: UserRow): Promise<AppError>;
  /** The first proof of an account's phone (removes a password set by whoever typed the number: see SignIn.proveOwnership). */
  proveOwnership(user: UserRow): Promise<{ user: UserRow }>;
  /** A new session token for a sign-in that proved `proof`. */
  createSession(userId: number, client: ClientContext, proof: Proof): Promise<string>;
  consumeSmsCode(e164: string, code: string): Promise<boolean>;
  registerProven(
    input: { phone: string; name: string; invitationCode: string | null; organizationId: number | null; via: string },
    client: ClientContext,
    within: (trx: Db, user: UserRow) => Promise<unknown>,
  ): Promise<{ user: UserRow; token: string }>;
  organizationName(id: number): Promise<string | null>;
}

export interface SignInFlowDeps {
  kv: KeyValueStore;
  providers: SignInProviders;
  identities: Identities;
  upstreams: Upstreams;
  accounts: FlowAccounts;
  lockout: Lockout;
  rateLimits: RateLimits;
  audit: AuditLog;
  defaultRegion: CountryCode;
  /** The public base URL the providers send browsers back to (PUBLIC_URL); undefined: sign-in through providers is off. */
  publicUrl: string | undefined;
}

interface StartedState {
  provider: ProviderName;
  secrets: Record<string, string>;
  callbackUrl: string;
  returnTo: string;
  /** The SHA-256 of the browser's binding cookie. */
  browser: string;
  /** Linking from the account page: the account and the session that asked. */
  link?: { userId: number; sessionId: number };
}

type PendingStep = 'phone' | 'register' | 'two_factor';

interface PendingSignIn {
  identity: ExternalIdentity;
  returnTo: string;
  step: PendingStep;
  /** step two_factor: the challenge for POST /api/auth/login/2fa. */
  challenge?: string;
  /** step register: the phone number the SMS code proved. */
  phone?: string;
}

/** Where the callback sends the browser. */
export type FlowOutcome =
  | { kind: 'signed_in'; token: string; phone: string; returnTo: string }
  | { kind: 'pending'; pendingToken: string }
  | { kind: 'linked'; provider: ProviderName; returnTo: string };

/** What the continue page shows of a pending sign-in. */
export interface PendingView {
  provider: ProviderName;
  displayName: string | null;
  avatarUrl: string | null;
  step: PendingStep;
  challenge: string | null;
  maskedPhone: string | null;
  returnTo: string;
  invitationCodeRequired: boolean;
  organizationName: string | null;
}

export type PhoneOutcome =
  | { signedIn: true; user: UserRow; token: string; returnTo: string }
  | { signedIn: false; invitationCodeRequired: boolean; organizationName: string | null };

// WeChat takes a state of letters and digits only (at most 128 bytes); ≈ 238 bits here. Its first
// letters say whether the flow was a link, so that a failure whose state is gone still goes back to the
// page it came from.
const STATE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LINK_PREFIX = 'link';
const SIGN_IN_PREFIX = 'sign';

const stateKey = (state: string) => `upstream:state:${sha256Hex(state)}`;
const pendingKey = (token: string) => `upstream:pending:${sha256Hex(token)}`;

/** A browser's binding cookie or a pending sign-in's token, as this flow makes them (43 base64url characters). */
const WELL_FORMED = /^[A-Za-z0-9_-]{43}$/;

export class SignInFlow {
  constructor(private readonly deps: SignInFlowDeps) {}

  /** Whether a callback's state names a linking from the account page (for where its failure is shown). */
  static wasLinking(query: URLSearchParams): boolean {
    return query.get('state')?.startsWith(LINK_PREFIX) ?? false;
  }

  /** A new browser binding, or the browser's current one (two tabs may each start a sign-in). */
  static browserKey(current: string | undefined): string {
    return current && WELL_FORMED.test(current) ? current : randomToken();
  }

  /** The provider's authorization URL for a sign-in (or, with `link`, a linking) this browser starts. */
  async start(rawName: string, input: { returnTo: string | null | undefined; browserKey: string; link?: { userId: number; sessionId: number } }, client: ClientContext): Promise<string> {
    const name = providerName(rawName);
    const limits = this.deps.rateLimits;
    await limits.enforceForClient(limits.loginPerIp, client);
    const settings = await this.enabledSettings(name);
    const state = `${input.link ? LINK_PREFIX : SIGN_IN_PREFIX}${randomString(STATE_ALPHABET, 40)}`;
    const callbackUrl = this.callbackUrl(name);
    const started = await this.deps.upstreams.adapter(name).start(settings, state, callbackUrl).catch(upstreamFailure);
    const record: StartedState = {
      provider: name,
      secrets: { ...started.secrets },
      callbackUrl,
      returnTo: safeReturnTo(input.returnTo),
      browser: sha256Hex(input.browserKey),
      ...(input.link ? { link: input.link } : {}),
    };
    await this.deps.kv.put(stateKey(state), JSON.stringify(record), STATE_TTL_MS);
    return started.authorizeUrl;
  }

  /**
   * The browser is back from the provider. Throws AppError (UPSTREAM_STATE_INVALID for a missing,
   * used, foreign or mismatched state; the adapter's UPSTREAM_* codes; ACCOUNT_DISABLED), each failure
   * audited as a failed sign-in.
   */
  async finish(rawName: string, query: URLSearchParams, browserKey: string | undefined, client: ClientContext): Promise<FlowOutcome> {
    const name = providerName(rawName);
    try {
      const started = await this.takeState(name, query.get('state'), browserKey);
      const limits = this.deps.rateLimits;
      await limits.enforceForClient(limits.loginPerIp, client);
      const settings = await this.enabledSettings(name);
      const flow = { authorizeUrl: '', secrets: started.secrets, callbackUrl: started.callbackUrl };
      const identity = await this.deps.upstreams.adapter(name).finish(settings, query, flow, this.deps.upstreams.fetch).catch(upstreamFailure);
      if (started.link) return await this.linkToSignedIn(started.link, identity, started.returnTo);
      return await this.signInWith(identity, started.returnTo, client);
    } catch (error) {
      if (error instanceof AppError) await this.failed(name, error.code, client);
      throw error;
    }
  }

  /** The pending sign-in a browser holds; SIGN_IN_PENDING_NOT_FOUND when it has none or it expired. */
  async pending(token: string | undefined): Promise<PendingView> {
    const pending = await this.loadPending(token);
    const { identity } = pending;
    const binding = pending.step === 'register' ? await this.binding(identity.provider) : { invitationCodeRequired: true, organizationName: null };
    return {
      provider: identity.provider,
      displayName: identity.displayName,
      avatarUrl: identity.avatarUrl,
      step: pending.step,
      challenge: pending.challenge ?? null,
      maskedPhone: pending.phone ? maskPhone(pending.phone) : null,
      returnTo: pending.returnTo,
      ...binding,
    };
  }

  /** Whether the browser holds a pending sign-in waiting for its phone number (an SMS code of purpose link_identity may be sent). */
  async waitsForPhone(token: string | undefined): Promise<boolean> {
    const pending = await this.loadPending(token).catch(() => undefined);
    return pending?.step === 'phone';
  }

  /**
   * The SMS code proves the phone number: the identity links to that number's account and signs it in
   * (TWO_FACTOR_REQUIRED when it has a second factor), or, when the number has no account, the pending
   * sign-in goes on to registration.
   */
  async provePhone(token: string | undefined, input: { phone: string; code: string }, client: ClientContext): Promise<PhoneOutcome> {
    const pending = await this.loadPending(token);
    if (pending.step !== 'phone') throw new AppError('SIGN_IN_PENDING_NOT_FOUND', { message: 'This sign-in is past its phone number: reload the page.' });
    const limits = this.deps.rateLimits;
    await limits.enforceForClient(limits.loginPerIp, client);
    const phone = normalizePhone(input.phone, this.deps.defaultRegion);
    if (!phone) throw new AppError('INVALID_PHONE', { details: { field: 'body.phone' } });
    const { identity } = pending;
    if (!(await this.deps.accounts.consumeSmsCode(phone.e164, input.code))) {
      await this.deps.audit.record({ event: 'login.failed', target: `phone:${maskPhone(phone.e164)}`, ip: client.ip, detail: { method: 'federated', provider: identity.provider, reason: 'INVALID_SMS_CODE' } });
      throw new AppError('INVALID_SMS_CODE', { details: { field: 'body.code' } });
    }
    const account = await this.deps.accounts.findByPhone(phone.e164);
    if (!account) {
      await this.deps.kv.put(pendingKey(token!), JSON.stringify({ ...pending, step: 'register', phone: phone.e164 } satisfies PendingSignIn), PENDING_TTL_MS);
      return { signedIn: false, ...(await this.binding(identity.provider)) };
    }
    if (account.status !== 'active') throw new AppError('ACCOUNT_DISABLED');
    await this.deps.identities.link(undefined, account.id, identity, { via: 'sms' });
    await this.deps.kv.delete(pendingKey(token!));
    // The number's holder, proven now, takes over an account whose number no code had proven.
    const { user } = await this.deps.accounts.proveOwnership(account);
    const signedIn = await this.signInAccount(user, identity, client).catch((error: unknown) => {
      // The continue page finishes with the second factor, then goes where the sign-in was going.
      if (error instanceof AppError && error.code === 'TWO_FACTOR_REQUIRED') throw new AppError('TWO_FACTOR_REQUIRED', { details: { ...error.details, return_to: pending.returnTo } });
      throw error;
    });
    return { signedIn: true, user, token: signedIn, returnTo: pending.returnTo };
  }

  /** Registers the proven phone's new account, with the identity linked in the same transaction. */
  async register(token: string | undefined, input: { name: string; invitationCode: string | null }, client: ClientContext): Promise<{ user: UserRow; token: string; returnTo: string }> {
    const pending = await this.loadPending(token);
    if (pending.step !== 'register' || !pending.phone) throw new AppError('SIGN_IN_PENDING_NOT_FOUND', { message: 'Prove your phone number first.' });
    const { identity } = pending;
    const settings = await this.enabledSettings(identity.provider);
    const signedIn = await this.deps.accounts.registerProven(
      { phone: pending.phone, name: input.name, invitationCode: input.invitationCode, organizationId: settings.boundOrganizationId, via: identity.provider },
      client,
      (trx, user) => this.deps.identities.link(trx, user.id, identity, { via: 'registration' }),
    );
    await this.deps.kv.delete(pendingKey(token!));
    await this.deps.audit.record({ event: 'login.ok', actor: `user:${signedIn.user.id}`, target: `user:${signedIn.user.id}`, ip: client.ip, detail: { method: 'federated', provider: identity.provider } });
    return { ...signedIn, returnTo: pending.returnTo };
  }

  private async takeState(name: ProviderName, state: string | null, browserKey: string | undefined): Promise<StartedState> {
    const invalid = (why: string) => new AppError('UPSTREAM_STATE_INVALID', { message: `This sign-in link ${why}: start the sign-in again.` });
    if (!state || state.length > 256) throw invalid('has no state');
    // Taken, not read: of a callback replayed or raced on two workers, only the first finds it.
    const raw = await this.deps.kv.takeOnce(stateKey(state));
    if (raw === null) throw invalid('has expired or was already used');
    const started = JSON.parse(raw) as StartedState;
    if (started.provider !== name) throw invalid('belongs to another provider');
    // Login CSRF: a callback with someone else's code, sent to this browser, finds no binding of its own.
    if (!browserKey || !secretsEqual(sha256Hex(browserKey), started.browser)) throw invalid('was started in another browser');
    return started;
  }

  private async linkToSignedIn(link: { userId: number; sessionId: number }, identity: ExternalIdentity, returnTo: string): Promise<FlowOutcome> {
    const owner = await this.deps.accounts.findById(link.userId);
    if (!owner || owner.status !== 'active') throw new AppError('UNAUTHENTICATED');
    await this.deps.identities.link(undefined, link.userId, identity, { via: 'account' });
    return { kind: 'linked', provider: identity.provider, returnTo };
  }

  private async signInWith(identity: ExternalIdentity, returnTo: string, client: ClientContext): Promise<FlowOutcome> {
    const linked = await this.deps.identities.findLinked(identity);
    const user = linked ? await this.deps.accounts.findById(linked.userId) : undefined;
    if (!linked || !user) return { kind: 'pending', pendingToken: await this.newPending({ identity, returnTo, step: 'phone' }) };
    if (user.status !== 'active') throw new AppError('ACCOUNT_DISABLED');
    await this.deps.identities.touch(linked.id);
    if (this.deps.accounts.isTwoFactorOn(user)) {
      const challenge = await this.deps.accounts.twoFactorChallenge(user);
      return { kind: 'pending', pendingToken: await this.newPending({ identity, returnTo, step: 'two_factor', challenge: String(challenge.details?.challenge) }) };
    }
    return { kind: 'signed_in', token: await this.signInAccount(user, identity, client), phone: user.phone, returnTo };
  }

  /** A complete sign-in through the provider: the lockout lifted (as any complete sign-in does), a session, the audit event. */
  private async signInAccount(user: UserRow, identity: ExternalIdentity, client: ClientContext): Promise<string> {
    if (this.deps.accounts.isTwoFactorOn(user)) throw await this.deps.accounts.twoFactorChallenge(user);
    await this.deps.lockout.counter(user.phone, client).succeeded();
    const token = await this.deps.accounts.createSession(user.id, client, { federated: Date.now() });
    await this.deps.audit.record({ event: 'login.ok', actor: `user:${user.id}`, target: `user:${user.id}`, ip: client.ip, detail: { method: 'federated', provider: identity.provider } });
    return token;
  }

  private async newPending(pending: PendingSignIn): Promise<string> {
    const token = randomToken();
    await this.deps.kv.put(pendingKey(token), JSON.stringify(pending), PENDING_TTL_MS);
    return token;
  }

  private async loadPending(token: string | undefined): Promise<PendingSignIn> {
    const raw = token && WELL_FORMED.test(token) ? await this.deps.kv.get(pendingKey(token)) : null;
    if (raw === null) throw new AppError('SIGN_IN_PENDING_NOT_FOUND');
    return JSON.parse(raw) as PendingSignIn;
  }

  /** Whether registering through this provider needs an invitation code, or names the organization it is bound to. */
  private async binding(name: ProviderName): Promise<{ invitationCodeRequired: boolean; organizationName: string | null }> {
    const settings = await this.enabledSettings(name);
    if (settings.boundOrganizationId === null) return { invitationCodeRequired: true, organizationName: null };
    return { invitationCodeRequired: false, organizationName: await this.deps.accounts.organizationName(settings.boundOrganizationId) };
  }

  private async enabledSettings(name: ProviderName): Promise<ProviderSettings> {
    const settings = await this.deps.providers.settings(name);
    if (!settings.enabled) throw new AppError('SIGN_IN_PROVIDER_NOT_FOUND', { message: `Sign-in with ${name} is not offered.` });
    return settings;
  }

  private callbackUrl(name: ProviderName): string {
    if (!this.deps.publicUrl) throw new AppError('SIGN_IN_PROVIDER_NOT_FOUND', { message: 'Sign-in through providers needs PUBLIC_URL: the address providers send browsers back to.' });
    return `${this.deps.publicUrl.replace(/\/+$/, '')}/api/auth/providers/${name}/callback`;
  }

  private failed(provider: ProviderName, reason: string, client: ClientContext): Promise<void> {
    return this.deps.audit.record({ event: 'login.failed', ip: client.ip, detail: { method: 'federated', provider, reason } });
  }
}

/** An adapter's refusal as the API's error (its message names the provider's own code, never a secret). */
function upstreamFailure(error: unknown): never {
  if (error instanceof UpstreamError) throw new AppError(error.code, { message: error.message });
  throw error;
}
