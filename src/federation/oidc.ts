// A generic upstream OpenID Connect provider (a university's or a region's identity system) through
// openid-client, a certified relying-party library: discovery, the code flow with PKCE (S256), a
// nonce, and the ID token validated against the issuer's JWKS. Nothing here parses tokens by hand.
import * as client from 'openid-client';
import { UpstreamError, type ProviderSettings, type UpstreamProvider } from './types.js';

export interface OidcProviderOptions {
  /** How long one issuer's discovery document is trusted before it is fetched again. */
  discoveryTtlMs?: number;
  /** The fetch discovery uses when `start` runs (it has none injected); finish uses the injected one. */
  fetch?: typeof globalThis.fetch;
  /** Seconds openid-client waits for the provider on each request it makes itself. */
  timeoutSeconds?: number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** An OIDC upstream with its own discovery cache (one per process, per issuer). */
export function createOidcProvider(options: OidcProviderOptions = {}): UpstreamProvider {
  const ttl = options.discoveryTtlMs ?? 10 * 60_000;
  const discovered = new Map<string, { metadata: Promise<client.ServerMetadata>; expiresAt: number }>();

  /** The issuer's metadata, fetched once per TTL; a failed discovery is not remembered, so the next sign-in tries again. */
  function metadataOf(issuer: URL, fetch: typeof globalThis.fetch): Promise<client.ServerMetadata> {
    const key = issuer.href;
    const cached = discovered.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.metadata;
    const metadata = client
      .discovery(issuer, 'discovery-only', undefined, undefined, {
        [client.customFetch]: asCustomFetch(fetch),
        timeout: options.timeoutSeconds ?? 10,
        ...(issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {}),
      })
      .then((config) => config.serverMetadata());
    discovered.set(key, { metadata, expiresAt: Date.now() + ttl });
    metadata.catch(() => discovered.get(key)?.metadata === metadata && discovered.delete(key));
    return metadata;
  }

  async function configure(settings: ProviderSettings, fetch: typeof globalThis.fetch): Promise<client.Configuration> {
    const issuer = issuerOf(settings);
    const config = new client.Configuration(await metadataOf(issuer, fetch), settings.appId, settings.appSecret);
    config[client.customFetch] = asCustomFetch(fetch);
    config.timeout = options.timeoutSeconds ?? 10;
    if (issuer.protocol === 'http:') client.allowInsecureRequests(config);
    return config;
  }

  return {
    name: 'oidc',

    async start(settings, state, callbackUrl) {
      const config = await configure(settings, options.fetch ?? globalThis.fetch).catch(upstreamError);
      const codeVerifier = client.randomPKCECodeVerifier();
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: callbackUrl,
        scope: settings.extra.scopes?.trim() || 'openid profile',
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      // The state is Gatehouse's own; it is kept beside the verifier so finish can hand it to the library's check.
      return { authorizeUrl: url.toString(), secrets: { codeVerifier, nonce, state } };
    },

    async finish(settings, callback, flow, fetch) {
      try {
        const config = await configure(settings, fetch);
        const currentUrl = new URL(flow.callbackUrl);
        currentUrl.search = callback.toString();
        const tokens = await client.authorizationCodeGrant(config, currentUrl, {
          pkceCodeVerifier: required(flow.secrets.codeVerifier),
          expectedNonce: required(flow.secrets.nonce),
          expectedState: required(flow.secrets.state),
          idTokenExpected: true,
        });
        const claims = tokens.claims()!;
        let profile: Record<string, unknown> = claims;
        // Many providers put only sub in the ID token; the name then comes from userinfo, checked to be the same sub.
        if (!claimText(claims, 'name') && !claimText(claims, 'preferred_username') && config.serverMetadata().userinfo_endpoint) {
          profile = { ...(await client.fetchUserInfo(config, tokens.access_token, claims.sub)), ...claims };
        }
        const details: Record<string, string> = {};
        for (const field of ['preferred_username', 'email'] as const) {
          const value = claimText(profile, field);
          if (value) details[field] = value;
        }
        return {
          provider: 'oidc',
          // sub is unique only within its issuer; the issuer is the one discovery and the ID token agreed on.
          subject: `${config.serverMetadata().issuer}|${claims.sub}`,
          displayName: claimText(profile, 'name') ?? claimText(profile, 'preferred_username'),
          avatarUrl: claimText(profile, 'picture'),
          details,
        };
      } catch (error) {
        return upstreamError(error);
      }
    },
  };
}

export const oidc = createOidcProvider();

function issuerOf(settings: ProviderSettings): URL {
  let issuer: URL;
  try {
    issuer = new URL(settings.extra.issuer ?? '');
  } catch {
    throw new UpstreamError('UPSTREAM_BAD_RESPONSE', 'the OpenID Connect provider has no valid issuer URL configured');
  }
  // Plain HTTP would let anyone on the path forge the discovery document and keys; only a loopback issuer (tests, a local proxy) may use it.
  if (issuer.protocol !== 'https:' && !(issuer.protocol === 'http:' && LOOPBACK.has(issuer.hostname))) {
    throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `the issuer ${issuer.origin} must use https`);
  }
  return issuer;
}

/** openid-client's fetch hook takes the same arguments as fetch, typed more narrowly (a Uint8Array body). */
function asCustomFetch(fetch: typeof globalThis.fetch): client.CustomFetch {
  return (url, init) => fetch(url, init as RequestInit);
}

function required(value: string | undefined): string {
  if (!value) throw new UpstreamError('UPSTREAM_BAD_RESPONSE', 'the sign-in flow lost its PKCE verifier, nonce or state');
  return value;
}

function claimText(claims: Record<string, unknown>, name: string): string | null {
  const value = claims[name];
  return typeof value === 'string' && value !== '' ? value : null;
}

/** openid-client's errors in Gatehouse's words: the network, the user, the code, or an answer that did not validate. */
function upstreamError(error: unknown): never {
  if (error instanceof UpstreamError) throw error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof client.AuthorizationResponseError) {
    // The provider sent the browser back with error=… (access_denied when the user refused, login_required…).
    throw new UpstreamError('UPSTREAM_DENIED', `the provider refused the sign-in: ${error.error}`, error.error);
  }
  if (error instanceof client.ResponseBodyError) {
    if (error.status >= 500) throw new UpstreamError('UPSTREAM_UNAVAILABLE', `the provider failed: HTTP ${error.status} ${error.error}`, error.error);
    // invalid_grant: the code is unknown, already used, expired, or was issued for another verifier.
    if (error.error === 'invalid_grant') throw new UpstreamError('UPSTREAM_CODE_INVALID', `the provider refused the code: ${error.error_description ?? error.error}`, error.error);
    throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `the provider answered ${error.error}: ${error.error_description ?? ''}`, error.error);
  }
  const code = (error as { code?: string }).code;
  const cause = (error as { cause?: unknown }).cause;
  if (error instanceof TypeError || code === 'OAUTH_TIMEOUT' || code === 'OAUTH_ABORT' || (cause instanceof DOMException && /Timeout|Abort/.test(cause.name))) {
    throw new UpstreamError('UPSTREAM_UNAVAILABLE', `the provider could not be reached: ${message}`);
  }
  if (code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' && cause instanceof Response && cause.status >= 500) {
    throw new UpstreamError('UPSTREAM_UNAVAILABLE', `the provider failed: HTTP ${cause.status}`);
  }
  // State or nonce mismatch, a bad signature, a wrong issuer or audience: the answer is not for this sign-in.
  const why = cause instanceof Error ? `: ${cause.message}` : '';
  throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `the provider's answer did not validate: ${message}${why}${code ? ` (${code})` : ''}`, code);
}
