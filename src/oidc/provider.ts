// oidc-provider configured as Gatehouse's OpenID Connect provider: its storage (adapter.ts), its keys
// (signing-keys.ts), its accounts and claims (claims.ts), and the single sign-on session, which is
// Gatehouse's own session cookie: the provider's session never outlives it or names another account.
import { hkdfSync } from 'node:crypto';
import { Provider, interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config.js';
import { isStoreOutage } from '../db/store-errors.js';
import { isAppError } from '../errors.js';
import type { AuthContext } from '../http/auth.js';
import { secretsEqual, sha256Hex } from '../security/tokens.js';
import type { ProviderAdapter } from './adapter.js';
import { ACR, SCOPES, SCOPE_CLAIMS, accountClaims, authenticationOf, clientAdmits, type AccountFacts } from './claims.js';
import { GATEHOUSE_METADATA, gatehouseFacts } from './client-metadata.js';
import type { OidcGrants } from './grants.js';
import { errorPage, logoutConfirmationPage, signedOutPage } from './pages.js';
import type { SigningJwk } from './signing-keys.js';

/** Where the provider's endpoints live (discovery is at /.well-known/openid-configuration). */
export const OIDC_PREFIX = '/oidc';
export const ROUTES = {
  authorization: `${OIDC_PREFIX}/auth`,
  token: `${OIDC_PREFIX}/token`,
  userinfo: `${OIDC_PREFIX}/me`,
  jwks: `${OIDC_PREFIX}/jwks`,
  introspection: `${OIDC_PREFIX}/token/introspection`,
  revocation: `${OIDC_PREFIX}/token/revocation`,
  end_session: `${OIDC_PREFIX}/session/end`,
} as const;

export const interactionPath = (uid: string) => `/interaction/${uid}`;

export interface ProviderDeps {
  config: Config;
  secret: string;
  adapter: (name: string) => ProviderAdapter;
  grants: OidcGrants;
  accounts: {
    bySubject(subject: string): Promise<AccountFacts | undefined>;
    userIdOf(subject: string): Promise<number | undefined>;
  };
  /** The Gatehouse session a session cookie names (the single sign-on session). */
  session(token: string): Promise<AuthContext | null>;
  /** Ends the Gatehouse session a token names (RP-initiated logout). */
  endSession(token: string): Promise<void>;
  cookieName: string;
}

type Ctx = KoaContextWithOIDC;

/**
 * The login prompt asks for an account the app may have: the provider session mirrors the Gatehouse
 * session (sessionMirror below), and an account is loaded only when it is active and the client
 * admits it (findAccount). Without one, the request goes to the interaction, which sends the visitor
 * to the login page or answers access_denied; with prompt=none, the app gets login_required.
 */
function singleSignOnPolicy() {
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(
    new interactionPolicy.Check('gatehouse_account', 'no Gatehouse session, or an account this app may not have', 'login_required', (ctx: Ctx) =>
      ctx.oidc.account ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT,
    ),
    0,
  );
  return policy;
}

interface ProviderSession {
  accountId?: string;
  loginTs?: number;
  amr?: string[];
  acr?: string;
  authorizations?: Record<string, unknown>;
  loginAccount(details: { accountId: string; loginTs?: number; amr?: string[]; acr?: string }): void;
}

/**
 * The single sign-on session is Gatehouse's own: each time the provider loads its session, it is made
 * to say what the browser's Gatehouse session says — signed in as that account, authenticated then
 * and so (amr/acr), or signed out. So an app signs a Gatehouse user in without a page (prompt=none
 * too, from the first app on), a Gatehouse sign-out ends single sign-on, and a browser that signs in
 * as someone else never carries the previous account's consents.
 */
function sessionMirror(deps: ProviderDeps) {
  return async function mirror(ctx: { cookies: { get(name: string, options?: { signed?: boolean }): string | undefined } }, session: ProviderSession): Promise<void> {
    const token = ctx.cookies.get(deps.cookieName, { signed: false });
    const auth = token ? await deps.session(token) : null;
    const active = auth && auth.user.status === 'active' ? auth : null;
    let changed = false;
    if (!active) {
      if (session.accountId !== undefined) {
        delete session.accountId;
        session.authorizations = {};
        changed = true;
      }
    } else {
      const { amr, acr, authTime } = authenticationOf(active.session);
      if (session.accountId !== active.user.subject) session.authorizations = {};
      if (session.accountId !== active.user.subject || session.loginTs !== authTime || session.acr !== acr) {
        session.loginAccount({ accountId: active.user.subject, amr, acr, ...(authTime === undefined ? {} : { loginTs: authTime }) });
        changed = true;
      }
    }
    // A changed session is saved (and its cookie set) even when it was new.
    if (changed) Reflect.defineProperty(session, 'touched', { writable: true, configurable: true, value: true });
  };
}

/** Cookie keys derived from SECRET_KEY: identical on every worker and server, never stored. */
function cookieKeys(secret: string): string[] {
  return [Buffer.from(hkdfSync('sha256', secret, 'gatehouse', 'oidc cookie keys v1', 32)).toString('base64url')];
}

export function createProvider(deps: ProviderDeps, signingKeys: readonly SigningJwk[]): Provider {
  const { config } = deps;
  const issuer = config.oidc.issuer!;
  const secure = config.session.secureCookie;
  const cookieOptions = { httpOnly: true, sameSite: 'lax' as const, secure, signed: true, overwrite: true };

  const configuration: Configuration = {
    adapter: deps.adapter as unknown as Configuration['adapter'],
    jwks: { keys: signingKeys.map((key) => ({ ...key })) as unknown as NonNullable<Configuration['jwks']>['keys'] },
    cookies: {
      keys: cookieKeys(deps.secret),
      long: cookieOptions,
      short: cookieOptions,
      names: { session: 'gatehouse_oidc_session', interaction: 'gatehouse_oidc_interaction', resume: 'gatehouse_oidc_resume' },
    },
    scopes: [...SCOPES],
    // acr, amr, auth_time and sid are standalone claims (null): they go in ID tokens whatever the scope.
    claims: { acr: null, amr: null, auth_time: null, sid: null, iss: null, ...Object.fromEntries(Object.entries(SCOPE_CLAIMS).map(([scope, claims]) => [scope, [...claims]])) },
    acrValues: [ACR.oneFactor, ACR.twoFactors],
    routes: { ...ROUTES },
    // Only what Gatehouse supports and tests is advertised: the code flow, and a client secret (basic
    // or post) or none with PKCE.
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    features: {
      devInteractions: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      introspection: {
        enabled: true,
        // RFC 7662 leaves who may introspect to the server: an app may introspect the tokens issued to
        // it, and the school's own systems (first-party confidential clients, acting as resource
        // servers for its other apps) any token. Public clients never.
        async allowedPolicy(_ctx: Ctx, client: { clientId: string; clientAuthMethod?: string | undefined }, token: { clientId?: string | undefined }) {
          if (client.clientAuthMethod === 'none') return false;
          if (token.clientId === client.clientId) return true;
          return gatehouseFacts(client).firstParty;
        },
      },
      revocation: { enabled: true },
      clientCredentials: { enabled: true },
      userinfo: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx: Ctx, form: string) {
          ctx.type = 'html';
          ctx.body = logoutConfirmationPage(form, ctx.oidc.client?.clientName);
        },
        async postLogoutSuccessSource(ctx: Ctx) {
          ctx.type = 'html';
          ctx.body = signedOutPage(ctx.oidc.client?.clientName);
        },
      },
    },
    ttl: {
      AccessToken: config.oidc.accessTokenTtlSeconds,
      ClientCredentials: config.oidc.accessTokenTtlSeconds,
      AuthorizationCode: 60,
      IdToken: config.oidc.idTokenTtlSeconds,
      RefreshToken: config.oidc.refreshTokenTtlSeconds,
      Interaction: 30 * 60,
      Session: config.session.maxAgeSeconds,
      // What a user allowed an app lasts as long as a refresh token could, renewed with each sign-in.
      Grant: Math.max(config.oidc.refreshTokenTtlSeconds, 365 * 86_400),
    },
    rotateRefreshToken: true,
    extraClientMetadata: { properties: Object.values(GATEHOUSE_METADATA) },
    // Signing out ends the tokens bound to the session (every one without offline_access: the
    // provider refuses them once their session is gone), not what the person allowed each app: the
    // app stays under Connected apps and asks no consent at the next sign-in. Everything else that
    // revokes (a replayed code, a reused refresh token, the app revoking a token) revokes the grant.
    revokeGrantPolicy: (ctx: Ctx) => ctx.oidc.route !== 'end_session_confirm',
    interactions: {
      url: (_ctx: Ctx, interaction: { uid: string }) => interactionPath(interaction.uid),
      policy: singleSignOnPolicy(),
    },
    async findAccount(ctx: Ctx, sub: string) {
      const facts = await deps.accounts.bySubject(sub);
      if (!facts || facts.user.status !== 'active') return undefined;
      // A client limited to some organizations or roles stops working for an account that left them.
      const client = ctx.oidc?.client;
      if (client && !clientAdmits(gatehouseFacts(client), facts.user)) return undefined;
      return { accountId: sub, claims: async () => accountClaims(facts) };
    },
    async loadExistingGrant(ctx: Ctx) {
      const clientId = ctx.oidc.client!.clientId;
      const accountId = ctx.oidc.session!.accountId!;
      let grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(clientId);
      if (!grantId) {
        // Consent given in an earlier session is not asked again.
        const userId = await deps.accounts.userIdOf(accountId);
        if (userId !== undefined) grantId = await deps.grants.grantIdFor(userId, clientId);
      }
      const grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
      if (grant && grant.accountId === accountId) return grant;
      // The school's own systems (first-party clients) are allowed what they ask without a consent page.
      if (!gatehouseFacts(ctx.oidc.client!).firstParty) return undefined;
      const granted = new ctx.oidc.provider.Grant({ clientId, accountId });
      granted.addOIDCScope([...ctx.oidc.requestParamOIDCScopes].join(' '));
      await granted.save();
      return granted;
    },
    clientBasedCORS(_ctx: Ctx, origin: string, client: { redirectUris?: readonly string[] | undefined }) {
      // A browser app (a public client) calls the token endpoint from the origin it is redirected to.
      return (client.redirectUris ?? []).some((uri) => new URL(uri).origin === origin);
    },
    // Outgoing requests go only to what a platform administrator registered (back-channel logout
    // URIs; clients cannot register themselves), and a school's apps live on its private network:
    // oidc-provider's guard against special-use addresses would silence every one of them.
    fetch: (url: string | URL | Request, options?: RequestInit) => {
      const { dispatcher: _guard, ...rest } = (options ?? {}) as RequestInit & { dispatcher?: unknown };
      return globalThis.fetch(url, rest);
    },
    async renderError(ctx: Ctx, out: { error?: string; error_description?: string }) {
      ctx.type = 'html';
      ctx.body = errorPage(out);
    },
  };

  const provider = new Provider(issuer, configuration);
  const loadSession = provider.Session.get.bind(provider.Session);
  const mirror = sessionMirror(deps);
  provider.Session.get = async function getMirroredSession(ctx: Parameters<typeof loadSession>[0]) {
    const session = await loadSession(ctx);
    await mirror(ctx as never, session as unknown as ProviderSession);
    return session;
  };
  // Every request reaches the provider addressed to the issuer (routes.ts, addressedToIssuer): its
  // scheme, host and client address are read from the X-Forwarded-* headers written there.
  provider.proxy = true;

  // The registry keeps only the SHA-256 of each client secret (a 256-bit random value needs no slow
  // hash): the presented secret is hashed and compared in constant time. No HS* algorithm is enabled
  // for clients, which would need the secret itself.
  provider.Client.prototype.compareClientSecret = async function compareClientSecret(this: { clientSecret?: string }, actual: string): Promise<boolean> {
    return typeof this.clientSecret === 'string' && secretsEqual(this.clientSecret, sha256Hex(actual));
  };

  // A store that is down (the database, Redis) reaches the provider as an error it does not know, which
  // it answers 500 server_error; apps and people get what the rest of Gatehouse answers instead: 503,
  // Retry-After, and OAuth's temporarily_unavailable. Redirects to an app keep the provider's answer.
  provider.on('server_error', (ctx: Ctx, error: unknown) => {
    if (isStoreOutage(error) || (isAppError(error) && error.status === 503)) (ctx.state as { storeOutage?: boolean }).storeOutage = true;
  });
  provider.use(async (ctx, next) => {
    await next();
    if (!(ctx.state as { storeOutage?: boolean }).storeOutage || (ctx.status >= 300 && ctx.status < 400)) return;
    const out = { error: 'temporarily_unavailable', error_description: 'A backing store is unavailable; try again shortly.' };
    ctx.status = 503;
    ctx.set('retry-after', '1');
    if (ctx.response.is('html')) ctx.body = errorPage(out);
    else ctx.body = out;
  });

  // RP-initiated logout also ends the Gatehouse session (it is the single sign-on session).
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.method !== 'POST' || ctx.path !== `${ROUTES.end_session}/confirm`) return;
    const confirmed = (ctx as Ctx).oidc?.body?.logout !== undefined;
    const token = ctx.cookies.get(deps.cookieName);
    if (!confirmed || !token) return;
    await deps.endSession(token);
    // The session cookie's own attributes (http/session-cookie.ts): a browser deletes it only on the same Domain.
    ctx.cookies.set(deps.cookieName, null, { path: '/', httpOnly: true, sameSite: 'lax', secure, signed: false, overwrite: true, ...(config.session.cookieDomain ? { domain: config.session.cookieDomain } : {}) });
  });

  return provider;
}
