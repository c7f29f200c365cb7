// WeCom (企业微信) web login for a corp's self-built app (login_type=CorpApp). The code is exchanged
// with the corp's app access token (gettoken, valid for expires_in seconds, rate-limited by Tencent, so
// it is cached per process and shared by concurrent sign-ins) at /cgi-bin/auth/getuserinfo, which names
// a member by userid — or, for someone outside the corp, only by openid, which is refused.
import { createHash } from 'node:crypto';
import type { ExternalIdentity, ProviderSettings, StartedFlow, UpstreamProvider } from './types.js';
import { UpstreamError } from './types.js';
import { callbackCode, getWeixinJson, joinUrl, optionalString, requiredString, type WeixinBody } from './weixin-api.js';

export const WECOM_AUTHORIZE_BASE = 'https://login.work.weixin.qq.com';
export const WECOM_API_BASE = 'https://qyapi.weixin.qq.com';
/** A token is dropped this long before WeCom says it expires, so a request never carries one that lapses in flight. */
export const TOKEN_MARGIN_MS = 5 * 60_000;
/** Access token expired (42001) or invalid (40014, 40001): the cached token was revoked early; fetch a new one once. */
const STALE_TOKEN = new Set([42001, 40014, 40001]);

function corpIdOf(settings: ProviderSettings): string {
  return settings.extra.corp_id || settings.appId;
}

function agentIdOf(settings: ProviderSettings): string {
  const agentId = settings.extra.agent_id;
  // A configuration mistake, not the user's: the registry should refuse to enable WeCom without it.
  if (!agentId) throw new Error('wecom: extra.agent_id (the self-built app\'s AgentId) is required');
  return agentId;
}

interface CachedToken {
  value: string;
  expiresAt: number;
}

export interface WeComOptions {
  /** The clock, in milliseconds (tests move it past a token's expiry). */
  now?: () => number;
}

export function createWeComProvider(options: WeComOptions = {}): UpstreamProvider {
  const now = options.now ?? Date.now;
  const tokens = new Map<string, CachedToken>();
  const pending = new Map<string, Promise<string>>();

  // Keyed by API base, corp and a hash of the secret: an administrator who changes the secret gets a new token at once.
  function cacheKey(settings: ProviderSettings, api: string): string {
    const secretHash = createHash('sha256').update(settings.appSecret).digest('base64url');
    return `${api}|${corpIdOf(settings)}|${secretHash}`;
  }

  async function accessToken(settings: ProviderSettings, api: string, fetch: typeof globalThis.fetch): Promise<string> {
    const key = cacheKey(settings, api);
    const cached = tokens.get(key);
    if (cached && cached.expiresAt > now()) return cached.value;
    const inFlight = pending.get(key);
    if (inFlight) return inFlight;
    const request = (async () => {
      const body = await getWeixinJson(fetch, joinUrl(api, '/cgi-bin/gettoken', { corpid: corpIdOf(settings), corpsecret: settings.appSecret }), 'wecom gettoken');
      const value = requiredString(body, 'access_token', 'wecom gettoken');
      const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : 0;
      tokens.set(key, { value, expiresAt: now() + expiresIn * 1000 - TOKEN_MARGIN_MS });
      return value;
    })();
    pending.set(key, request);
    try {
      return await request;
    } finally {
      pending.delete(key);
    }
  }

  /** A GET with the app token; a token WeCom calls stale is dropped and the call made once more with a fresh one. */
  async function withToken(settings: ProviderSettings, api: string, fetch: typeof globalThis.fetch, path: string, query: Record<string, string>, what: string): Promise<WeixinBody> {
    for (let attempt = 0; ; attempt++) {
      const token = await accessToken(settings, api, fetch);
      try {
        return await getWeixinJson(fetch, joinUrl(api, path, { access_token: token, ...query }), what);
      } catch (error) {
        const stale = error instanceof UpstreamError && STALE_TOKEN.has(Number(error.providerCode));
        if (!stale || attempt > 0) throw error;
        tokens.delete(cacheKey(settings, api));
      }
    }
  }

  async function displayName(settings: ProviderSettings, api: string, fetch: typeof globalThis.fetch, userid: string): Promise<WeixinBody | null> {
    try {
      return await withToken(settings, api, fetch, '/cgi-bin/user/get', { userid }, 'wecom user/get');
    } catch (error) {
      // The name is a courtesy: the member is already proven by getuserinfo, whose code is now spent, so an
      // app without contact-reading permission (60011) or a failing user/get still signs the member in.
      if (error instanceof UpstreamError) return null;
      throw error;
    }
  }

  return {
    name: 'wecom',
    async start(settings, state, callbackUrl): Promise<StartedFlow> {
      const url = joinUrl(settings.authorizeUrl ?? WECOM_AUTHORIZE_BASE, '/wwlogin/sso/login', {
        login_type: 'CorpApp',
        appid: corpIdOf(settings),
        agentid: agentIdOf(settings),
        redirect_uri: callbackUrl,
        state,
      });
      return { authorizeUrl: url, secrets: {} };
    },

    async finish(settings, callback, _flow, fetch): Promise<ExternalIdentity> {
      const code = callbackCode(callback);
      const api = settings.apiUrl ?? WECOM_API_BASE;
      const who = await withToken(settings, api, fetch, '/cgi-bin/auth/getuserinfo', { code }, 'wecom getuserinfo');
      // Current documentation spells it `userid`; the older /cgi-bin/user/getuserinfo said `UserId`.
      const userid = optionalString(who, 'userid') ?? optionalString(who, 'UserId');
      if (!userid) {
        if (optionalString(who, 'openid') ?? optionalString(who, 'OpenId')) {
          throw new UpstreamError('UPSTREAM_DENIED', 'wecom: not a member of this organization');
        }
        throw new UpstreamError('UPSTREAM_BAD_RESPONSE', 'wecom getuserinfo: the answer names no user');
      }
      const corpId = corpIdOf(settings);
      const profile = await displayName(settings, api, fetch, userid);
      return {
        provider: 'wecom',
        subject: `${corpId}:${userid}`,
        displayName: profile ? optionalString(profile, 'name') : null,
        avatarUrl: profile ? optionalString(profile, 'avatar') : null,
        details: { corp_id: corpId, userid },
      };
    },
  };
}

/** The process's WeCom provider: one token cache per process, as Tencent expects. */
export const wecom: UpstreamProvider = createWeComProvider();
