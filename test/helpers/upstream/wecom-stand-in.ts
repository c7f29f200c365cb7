// A local WeCom (企业微信): the web login page (/wwlogin/sso/login, login_type=CorpApp) and the API
// (/cgi-bin/gettoken, /cgi-bin/auth/getuserinfo, /cgi-bin/user/get) with WeCom's field names and habits:
// errors are HTTP 200 with errcode; the app token lives expires_in seconds (42001 after, 40014 if unknown);
// a code is single-use and lapses after 5 minutes (40029); someone outside the corp comes back with an
// openid instead of a userid. It counts gettoken calls, so a test can see the token cached.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { redirectBack, sendErrcode, sendJson, sendPage, startStandInServer, type StandInServer } from './stand-in-server.js';

/** A corp member (userid) or an outsider WeCom knows only by openid. */
export type WeComUser = { userid: string; name: string; avatar?: string } | { openid: string };

export interface WeComStandIn extends StandInServer {
  readonly corpId: string;
  readonly agentId: string;
  readonly corpSecret: string;
  setUser(user: WeComUser): void;
  setCancelled(cancelled: boolean): void;
  /** When false, /cgi-bin/user/get answers 60011 (the app may not read the address book). */
  setContactPermission(allowed: boolean): void;
  /** Forgets every issued app token, as when WeCom invalidates them before their expiry. */
  revokeTokens(): void;
  issueCode(): string;
}

const CODE_LIFETIME_MS = 5 * 60_000;
const TOKEN_LIFETIME_S = 7200;

export async function startWeComStandIn(options: { corpId?: string; agentId?: string; corpSecret?: string; user: WeComUser }): Promise<WeComStandIn> {
  const corpId = options.corpId ?? 'ww-stand-in-corp';
  const agentId = options.agentId ?? '1000002';
  const corpSecret = options.corpSecret ?? 'stand-in-corp-secret';
  let user = options.user;
  let cancelled = false;
  let contactPermission = true;
  const codes = new Map<string, { user: WeComUser; issuedAt: number; used: boolean }>();
  const tokens = new Map<string, number>(); // token → expiresAt
  const members = new Map<string, { userid: string; name: string; avatar?: string }>();
  let clock: () => number = Date.now;

  function issueCode(): string {
    const code = randomBytes(16).toString('base64url');
    codes.set(code, { user, issuedAt: clock(), used: false });
    if ('userid' in user) members.set(user.userid, user);
    return code;
  }

  /** The token check every API call makes; true when it already answered with an errcode. */
  function refusedToken(query: URLSearchParams, response: ServerResponse): boolean {
    const expiresAt = tokens.get(query.get('access_token') ?? '');
    if (expiresAt === undefined) {
      sendErrcode(response, 40014, 'invalid access_token');
      return true;
    }
    if (clock() > expiresAt) {
      sendErrcode(response, 42001, 'access_token expired');
      return true;
    }
    return false;
  }

  const server = await startStandInServer({
    '/wwlogin/sso/login': (query, response) => {
      const redirectUri = query.get('redirect_uri');
      if (query.get('login_type') !== 'CorpApp') return sendPage(response, 200, 'login_type 参数错误');
      if (query.get('appid') !== corpId || query.get('agentid') !== agentId) return sendPage(response, 200, '应用参数错误');
      if (!redirectUri || !URL.canParse(redirectUri)) return sendPage(response, 200, 'redirect_uri 参数错误');
      const state = query.get('state');
      redirectBack(response, redirectUri, cancelled ? { state } : { code: issueCode(), state });
    },
    '/cgi-bin/gettoken': (query, response) => {
      if (query.get('corpid') !== corpId) return sendErrcode(response, 40013, 'invalid corpid');
      if (query.get('corpsecret') !== corpSecret) return sendErrcode(response, 40001, 'invalid secret');
      const token = randomBytes(32).toString('base64url');
      tokens.set(token, clock() + TOKEN_LIFETIME_S * 1000);
      sendJson(response, { errcode: 0, errmsg: 'ok', access_token: token, expires_in: TOKEN_LIFETIME_S });
    },
    '/cgi-bin/auth/getuserinfo': (query, response) => {
      if (refusedToken(query, response)) return;
      const issued = codes.get(query.get('code') ?? '');
      if (!issued || issued.used || clock() - issued.issuedAt > CODE_LIFETIME_MS) return sendErrcode(response, 40029, 'invalid code');
      issued.used = true;
      if ('userid' in issued.user) return sendJson(response, { errcode: 0, errmsg: 'ok', userid: issued.user.userid, user_ticket: randomBytes(16).toString('hex') });
      sendJson(response, { errcode: 0, errmsg: 'ok', openid: issued.user.openid });
    },
    '/cgi-bin/user/get': (query, response) => {
      if (refusedToken(query, response)) return;
      if (!contactPermission) return sendErrcode(response, 60011, 'no privilege to access/modify contact/party/agent');
      const member = members.get(query.get('userid') ?? '');
      if (!member) return sendErrcode(response, 60111, 'invalid string value `userid`');
      sendJson(response, { errcode: 0, errmsg: 'ok', userid: member.userid, name: member.name, ...(member.avatar ? { avatar: member.avatar } : {}), status: 1 });
    },
  });
  clock = server.now;

  return {
    ...server,
    corpId,
    agentId,
    corpSecret,
    setUser(next) {
      user = next;
    },
    setCancelled(next) {
      cancelled = next;
    },
    setContactPermission(allowed) {
      contactPermission = allowed;
    },
    revokeTokens() {
      tokens.clear();
    },
    issueCode,
  };
}
