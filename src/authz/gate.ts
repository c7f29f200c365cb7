// The decision behind both forward-auth endpoints: may the person behind this request's session
// enter the URL the proxy asks about? In order: the proxy must be one TRUST_PROXY names (only its
// report of the original URL is believed); the URL's host must have a rule (default deny); a live
// session of an active account, else sign in; the rule must admit the account's organization and role.
import type { TrustProxy } from '../config.js';
import { AppError } from '../errors.js';
import { trustedProxyMatcher } from '../security/trusted-proxies.js';
import type { IdentityHeaders } from './identity-headers.js';
import { admits, type ForwardAuthRules } from './rules.js';
import type { SessionFactsCache } from './session-cache.js';
import { allowedReturnUrl, loginUrl, type OriginalRequest } from './urls.js';

export interface ForwardAuthRequest {
  /** The address of the connection's peer: the proxy, when it is one. */
  peer: string | undefined;
  /** The original URL as this endpoint's proxies report it; read only once the peer is trusted. */
  original: () => OriginalRequest | null;
  /** The session cookie's value. */
  token: string | undefined;
}

export type ForwardAuthAnswer =
  | { kind: 'allowed'; headers: IdentityHeaders }
  /** No live session: sign in at `loginUrl` (null when PUBLIC_URL is unset: Gatehouse does not know its own address). */
  | { kind: 'sign-in'; loginUrl: string | null };

export class ForwardAuthGate {
  private readonly trusted: (peer: string | undefined) => boolean;

  constructor(private readonly deps: { rules: ForwardAuthRules; sessions: SessionFactsCache; publicUrl: string | undefined; trustProxy: TrustProxy }) {
    this.trusted = trustedProxyMatcher(deps.trustProxy);
  }

  /** The answer, or FORWARD_AUTH_UNTRUSTED_PROXY, FORWARD_AUTH_URL_MISSING, FORWARD_AUTH_NO_RULE, FORWARD_AUTH_DENIED. */
  async check(request: ForwardAuthRequest): Promise<ForwardAuthAnswer> {
    if (!this.trusted(request.peer)) throw new AppError('FORWARD_AUTH_UNTRUSTED_PROXY');
    const original = request.original();
    if (!original) throw new AppError('FORWARD_AUTH_URL_MISSING');
    const rules = await this.deps.rules.current();
    const rule = rules.get(original.host);
    if (!rule) throw new AppError('FORWARD_AUTH_NO_RULE', { message: `Gatehouse has no forward-auth rule for ${original.host}, and refuses hosts without one: an administrator adds it in the console or with \`gatehouse forward-auth set\`.` });
    const facts = request.token ? await this.deps.sessions.get(request.token) : null;
    if (!facts) {
      const publicUrl = this.deps.publicUrl;
      return { kind: 'sign-in', loginUrl: publicUrl ? loginUrl(publicUrl, allowedReturnUrl(original.url, (host) => rules.has(host))) : null };
    }
    if (!admits(rule, facts)) throw new AppError('FORWARD_AUTH_DENIED', { message: `Your account's organization or role is not among those allowed into ${original.host}.` });
    return { kind: 'allowed', headers: facts.headers };
  }

  /** Where /authz/continue sends the visitor: `raw` when it is an allowed return URL; RETURN_URL_NOT_ALLOWED otherwise. */
  async returnUrl(raw: string): Promise<string> {
    const rules = await this.deps.rules.current();
    const allowed = allowedReturnUrl(raw, (host) => rules.has(host));
    if (allowed === null) throw new AppError('RETURN_URL_NOT_ALLOWED');
    return allowed;
  }
}
