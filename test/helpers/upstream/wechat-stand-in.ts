// A local WeChat: the Open Platform QR page (/connect/qrconnect), the Official Account authorize page
// (/connect/oauth2/authorize), and the API (/sns/oauth2/access_token, /sns/userinfo) with WeChat's field
// names and its habits: errors are HTTP 200 with errcode; a code is single-use (40163 when reused) and
// lapses after 5 minutes (40029); userinfo needs the openid beside the token and refuses snsapi_base (48001).
// The authorize pages sign in the configured fake user at once and redirect back, so a browser passes through.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { redirectBack, sendErrcode, sendJson, sendPage, startStandInServer, type StandInServer } from './stand-in-server.js';

export interface WeChatUser {
  openid: string;
  /** Present only when the app is bound to an Open Platform account. */
  unionid?: string;
  nickname: string;
  headimgurl: string;
}

export interface WeChatStandIn extends StandInServer {
  readonly appId: string;
  readonly appSecret: string;
  /** Who the authorize pages sign in from now on. */
  setUser(user: WeChatUser): void;
  /** When true, the authorize pages come back without a code, as when the user declines. */
  setCancelled(cancelled: boolean): void;
  /** A code for the current user, as the authorize page would issue it (for tests that skip the browser). */
  issueCode(scope?: string): string;
}

const CODE_LIFETIME_MS = 5 * 60_000;
const TOKEN_LIFETIME_S = 7200;
const QR_SCOPES = new Set(['snsapi_login']);
const MP_SCOPES = new Set(['snsapi_base', 'snsapi_userinfo']);

interface IssuedCode {
  user: WeChatUser;
  scope: string;
  issuedAt: number;
  used: boolean;
}

interface IssuedToken {
  user: WeChatUser;
  scope: string;
  expiresAt: number;
}

export async function startWeChatStandIn(options: { appId?: string; appSecret?: string; user: WeChatUser }): Promise<WeChatStandIn> {
  const appId = options.appId ?? 'wx-stand-in-app';
  const appSecret = options.appSecret ?? 'stand-in-secret';
  let user = options.user;
  let cancelled = false;
  const codes = new Map<string, IssuedCode>();
  const tokens = new Map<string, IssuedToken>();
  let clock: () => number = Date.now;

  function issueCode(scope = 'snsapi_login'): string {
    const code = randomBytes(16).toString('hex');
    codes.set(code, { user, scope, issuedAt: clock(), used: false });
    return code;
  }

  function authorizePage(scopes: Set<string>) {
    return (query: URLSearchParams, response: ServerResponse) => {
      const redirectUri = query.get('redirect_uri');
      const scope = query.get('scope') ?? '';
      // WeChat shows an error page (it never redirects) for a wrong appid, redirect_uri or scope.
      if (query.get('appid') !== appId) return sendPage(response, 200, 'appid 参数错误');
      if (!redirectUri || !URL.canParse(redirectUri)) return sendPage(response, 200, 'redirect_uri 参数错误');
      if (query.get('response_type') !== 'code' || !scopes.has(scope)) return sendPage(response, 200, 'scope 参数错误');
      const state = query.get('state');
      redirectBack(response, redirectUri, cancelled ? { state } : { code: issueCode(scope), state });
    };
  }

  const server = await startStandInServer({
    '/connect/qrconnect': authorizePage(QR_SCOPES),
    '/connect/oauth2/authorize': authorizePage(MP_SCOPES),
    '/sns/oauth2/access_token': (query, response) => {
      if (query.get('appid') !== appId) return sendErrcode(response, 40013, 'invalid appid');
      if (query.get('secret') !== appSecret) return sendErrcode(response, 40125, 'invalid appsecret');
      if (query.get('grant_type') !== 'authorization_code') return sendErrcode(response, 40002, 'invalid grant_type');
      const issued = codes.get(query.get('code') ?? '');
      if (!issued || clock() - issued.issuedAt > CODE_LIFETIME_MS) return sendErrcode(response, 40029, 'invalid code');
      if (issued.used) return sendErrcode(response, 40163, 'code been used');
      issued.used = true;
      const accessToken = randomBytes(24).toString('base64url');
      tokens.set(accessToken, { user: issued.user, scope: issued.scope, expiresAt: clock() + TOKEN_LIFETIME_S * 1000 });
      sendJson(response, {
        access_token: accessToken,
        expires_in: TOKEN_LIFETIME_S,
        refresh_token: randomBytes(24).toString('base64url'),
        openid: issued.user.openid,
        scope: issued.scope,
        ...(issued.user.unionid ? { unionid: issued.user.unionid } : {}),
      });
    },
    '/sns/userinfo': (query, response) => {
      const token = tokens.get(query.get('access_token') ?? '');
      if (!token) return sendErrcode(response, 40001, 'invalid credential, access_token is invalid or not latest');
      if (clock() > token.expiresAt) return sendErrcode(response, 42001, 'access_token expired');
      if (query.get('openid') !== token.user.openid) return sendErrcode(response, 40003, 'invalid openid');
      if (token.scope === 'snsapi_base') return sendErrcode(response, 48001, 'api unauthorized');
      const { openid, unionid, nickname, headimgurl } = token.user;
      sendJson(response, { openid, nickname, sex: 0, province: '', city: '', country: 'CN', headimgurl, privilege: [], ...(unionid ? { unionid } : {}) });
    },
  });
  clock = server.now;

  return {
    ...server,
    appId,
    appSecret,
    setUser(next) {
      user = next;
    },
    setCancelled(next) {
      cancelled = next;
    },
    issueCode,
  };
}
