// DingTalk (钉钉) sign-in through its current OAuth 2.0 (login.dingtalk.com + api.dingtalk.com/v1.0),
// not the retired sns/getuserinfo_bycode API. Identities are keyed by unionId, which is the same for
// one person across every app of one developer; openId is per app and kept only as a detail.
import { UpstreamError, type ExternalIdentity, type UpstreamProvider } from './types.js';
import { base, callUpstream, text } from './upstream-http.js';

const AUTHORIZE_BASE = 'https://login.dingtalk.com';
const API_BASE = 'https://api.dingtalk.com';

export const dingtalk: UpstreamProvider = {
  name: 'dingtalk',

  async start(settings, state, callbackUrl) {
    const url = new URL(`${base(settings.authorizeUrl, AUTHORIZE_BASE)}/oauth2/auth`);
    url.search = new URLSearchParams({
      redirect_uri: callbackUrl,
      response_type: 'code',
      client_id: settings.appId,
      scope: 'openid',
      state,
      // DingTalk skips its consent page for a returning user without it, then answers no authCode on some clients.
      prompt: 'consent',
    }).toString();
    return { authorizeUrl: url.toString(), secrets: {} };
  },

  async finish(settings, callback, _flow, fetch) {
    // DingTalk sends the user back with authCode (older documents and some clients: code), or with error when they refuse.
    const code = callback.get('authCode') ?? callback.get('code');
    if (callback.get('error') || !code) throw new UpstreamError('UPSTREAM_DENIED', `DingTalk sign-in not granted: ${callback.get('error') ?? 'no authCode'}`, callback.get('error') ?? undefined);
    const api = base(settings.apiUrl, API_BASE);

    const token = await callUpstream(fetch, `${api}/v1.0/oauth2/userAccessToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: settings.appId, clientSecret: settings.appSecret, code, grantType: 'authorization_code' }),
    }, 'DingTalk userAccessToken');
    if (token.status !== 200) {
      // DingTalk's v1.0 errors are HTTP 4xx with {code, message, requestid}; the code the browser brought is the
      // only input of this call that changes per sign-in, so a refusal means it is unknown, used or expired.
      throw new UpstreamError('UPSTREAM_CODE_INVALID', `DingTalk refused the authCode: HTTP ${token.status} ${text(token.body, 'code')}: ${text(token.body, 'message')}`, text(token.body, 'code') ?? token.status);
    }
    const accessToken = text(token.body, 'accessToken');
    if (!accessToken) throw new UpstreamError('UPSTREAM_BAD_RESPONSE', 'DingTalk userAccessToken answered no accessToken');

    const me = await callUpstream(fetch, `${api}/v1.0/contact/users/me`, { headers: { 'x-acs-dingtalk-access-token': accessToken } }, 'DingTalk contact/users/me');
    if (me.status !== 200) throw new UpstreamError('UPSTREAM_BAD_RESPONSE', `DingTalk users/me: HTTP ${me.status} ${text(me.body, 'code')}: ${text(me.body, 'message')}`, text(me.body, 'code') ?? me.status);
    const unionId = text(me.body, 'unionId');
    if (!unionId) throw new UpstreamError('UPSTREAM_BAD_RESPONSE', 'DingTalk users/me answered no unionId');
    return identity(unionId, me.body, text(token.body, 'corpId'));
  },
};

function identity(unionId: string, me: Record<string, unknown>, corpId: string | null): ExternalIdentity {
  const details: Record<string, string> = {};
  const openId = text(me, 'openId');
  if (openId) details.openId = openId;
  // corpId comes only when the app asked for the corpid scope; it is what binding a DingTalk organization needs.
  if (corpId) details.corpId = corpId;
  return { provider: 'dingtalk', subject: unionId, displayName: text(me, 'nick'), avatarUrl: text(me, 'avatarUrl'), details };
}
