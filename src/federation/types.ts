// Upstream identity providers (WeChat, WeCom, DingTalk, Feishu, any OpenID Connect provider) behind one
// small interface: start → where to send the browser; finish → who came back. One file per provider
// implements it; the sign-in flow (state, linking, sessions) knows none of them.

export type ProviderName = 'wechat' | 'wechat_mp' | 'wecom' | 'dingtalk' | 'feishu' | 'oidc';

/** An administrator's settings for one provider (the secret already unsealed). */
export interface ProviderSettings {
  name: ProviderName;
  appId: string;
  appSecret: string;
  /** Where the browser is sent to authorize (each provider's default when null: see its module). */
  authorizeUrl: string | null;
  /** Where the server calls the provider's API (token, user info); the provider's default when null. */
  apiUrl: string | null;
  /** Provider-specific extras: WeCom's corp id and agent id, a generic OIDC provider's issuer and scopes. */
  extra: Readonly<Record<string, string>>;
  /** Accounts this provider registers land in this organization without an invitation code; null: an invitation code is needed. */
  boundOrganizationId: number | null;
  enabled: boolean;
}

/** What a sign-in started with, kept single-use in the shared store until the browser comes back. */
export interface StartedFlow {
  /** The URL to send the browser to. */
  authorizeUrl: string;
  /** Provider-specific values the finish needs (a PKCE verifier, a nonce), stored with the state. */
  secrets: Readonly<Record<string, string>>;
}

/** Who the provider says came back: its stable key, and what it tells of them (never merged into an account by name). */
export interface ExternalIdentity {
  provider: ProviderName;
  /** The stable key: WeChat unionid (else openid), WeCom corp + user id, DingTalk/Feishu union id, OIDC issuer + sub. */
  subject: string;
  displayName: string | null;
  avatarUrl: string | null;
  /** Raw facts worth keeping for administrators (openid beside unionid, corp id, email…), never secrets. */
  details: Readonly<Record<string, string>>;
}

/** A provider refused or failed; `code` is stable (shown to the user in words, audited). */
export class UpstreamError extends Error {
  constructor(
    readonly code: 'UPSTREAM_DENIED' | 'UPSTREAM_CODE_INVALID' | 'UPSTREAM_UNAVAILABLE' | 'UPSTREAM_BAD_RESPONSE',
    message: string,
    readonly providerCode?: string | number,
  ) {
    super(message);
  }
}

export interface UpstreamProvider {
  readonly name: ProviderName;
  /** The authorization URL for this sign-in; `state` is Gatehouse's, `callbackUrl` the exact callback registered with the provider. */
  start(settings: ProviderSettings, state: string, callbackUrl: string): Promise<StartedFlow>;
  /** Exchanges the callback's query for the identity; throws UpstreamError. `fetch` is injected (timeouts, tests). */
  finish(settings: ProviderSettings, callback: URLSearchParams, flow: StartedFlow & { callbackUrl: string }, fetch: typeof globalThis.fetch): Promise<ExternalIdentity>;
}
