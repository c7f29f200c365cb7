// WeChat sign-in, two ways into the same accounts:
// - `wechat`: website QR login through the Open Platform (网站应用, scope snsapi_login), for a desktop browser;
// - `wechat_mp`: an Official Account's web authorization (网页授权, snsapi_userinfo by default), for a link
//   opened inside WeChat, which signs in without a QR code.
// Both exchange the code at /sns/oauth2/access_token and read /sns/userinfo. The subject is the unionid
// when the app is bound to an Open Platform account, so one person's website and in-app sign-ins meet;
// otherwise the openid, which is only stable within one app.
import type { ExternalIdentity, ProviderSettings, StartedFlow, UpstreamProvider } from './types.js';
import { UpstreamError } from './types.js';
import { callbackCode, getWeixinJson, joinUrl, optionalString, requiredString } from './weixin-api.js';

export const WECHAT_AUTHORIZE_BASE = 'https://open.weixin.qq.com';
export const WECHAT_API_BASE = 'https://api.weixin.qq.com';

type WeChatName = 'wechat' | 'wechat_mp';

/** snsapi_base gives only the openid (and the unionid for some followers), silently; the rest need the user's consent. */
const MP_SCOPES = new Set(['snsapi_base', 'snsapi_userinfo']);

function scopeOf(name: WeChatName, settings: ProviderSettings): string {
  if (name === 'wechat') return 'snsapi_login';
  const scope = settings.extra.scope ?? 'snsapi_userinfo';
  if (!MP_SCOPES.has(scope)) throw new Error(`wechat_mp: extra.scope must be snsapi_base or snsapi_userinfo, not ${scope}`);
  return scope;
}

function authorizeUrl(name: WeChatName, settings: ProviderSettings, state: string, callbackUrl: string): string {
  const path = name === 'wechat' ? '/connect/qrconnect' : '/connect/oauth2/authorize';
  // WeChat reads its parameters in this order and requires the #wechat_redirect fragment (without it the
  // in-app browser shows an error page instead of redirecting), so the URL is built in exactly this shape.
  const url = joinUrl(settings.authorizeUrl ?? WECHAT_AUTHORIZE_BASE, path, {
    appid: settings.appId,
    redirect_uri: callbackUrl,
    response_type: 'code',
    scope: scopeOf(name, settings),
    state,
  });
  return `${url}#wechat_redirect`;
}

async function finish(name: WeChatName, settings: ProviderSettings, callback: URLSearchParams, fetch: typeof globalThis.fetch): Promise<ExternalIdentity> {
  const code = callbackCode(callback);
  const api = settings.apiUrl ?? WECHAT_API_BASE;
  const token = await getWeixinJson(
    fetch,
    joinUrl(api, '/sns/oauth2/access_token', { appid: settings.appId, secret: settings.appSecret, code, grant_type: 'authorization_code' }),
    `${name} access_token`,
  );
  const accessToken = requiredString(token, 'access_token', `${name} access_token`);
  const openid = requiredString(token, 'openid', `${name} access_token`);

  // snsapi_base may not read /sns/userinfo (WeChat answers 48001): the token's own fields are all there is.
  if (name === 'wechat_mp' && scopeOf(name, settings) === 'snsapi_base') {
    return identity(name, openid, optionalString(token, 'unionid'), null, null);
  }

  // Unlike WeCom's name lookup, a failing userinfo fails the sign-in: the unionid may come only from here,
  // and falling back to the openid would file the same person under a second subject.
  const user = await getWeixinJson(fetch, joinUrl(api, '/sns/userinfo', { access_token: accessToken, openid, lang: 'zh_CN' }), `${name} userinfo`);
  // The user info must describe the user the code was issued for; anything else is a broken or hostile answer.
  if (requiredString(user, 'openid', `${name} userinfo`) !== openid) {
    throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `${name} userinfo: the answer is about another openid`);
  }
  const unionid = optionalString(user, 'unionid') ?? optionalString(token, 'unionid');
  return identity(name, openid, unionid, optionalString(user, 'nickname'), optionalString(user, 'headimgurl'));
}

function identity(name: WeChatName, openid: string, unionid: string | null, nickname: string | null, avatar: string | null): ExternalIdentity {
  return {
    provider: name,
    subject: unionid ?? openid,
    displayName: nickname,
    avatarUrl: avatar,
    details: unionid ? { openid, unionid } : { openid },
  };
}

function weChatProvider(name: WeChatName): UpstreamProvider {
  return {
    name,
    async start(settings, state, callbackUrl): Promise<StartedFlow> {
      return { authorizeUrl: authorizeUrl(name, settings, state, callbackUrl), secrets: {} };
    },
    finish: (settings, callback, _flow, fetch) => finish(name, settings, callback, fetch),
  };
}

/** Website QR login (Open Platform 网站应用). */
export const wechat: UpstreamProvider = weChatProvider('wechat');
/** Inside WeChat's own browser (Official Account 网页授权). */
export const wechatMp: UpstreamProvider = weChatProvider('wechat_mp');
