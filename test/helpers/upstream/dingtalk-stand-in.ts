// A local DingTalk, its current OAuth 2.0 as documented: /oauth2/auth (login.dingtalk.com) redirects back
// with authCode + state (error + state when the user refuses); /v1.0/oauth2/userAccessToken (api.dingtalk.com)
// takes JSON {clientId, clientSecret, code, grantType} and answers {accessToken, refreshToken, expireIn};
// /v1.0/contact/users/me reads the x-acs-dingtalk-access-token header. Errors are HTTP 400 with
// {code, message, requestid} — the shape and InvalidAuthentication are DingTalk's; the authCode error
// code strings are this stand-in's own (the adapter keys on the status and keeps whatever code comes).
// Codes are single-use and lapse after 5 minutes on the stand-in's clock.
import { randomBytes, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { parseJson, redirectBack, sendJson, startStandInServer, type StandInServer } from './stand-in-server.js';

export interface DingTalkUser {
  nick: string;
  unionId: string;
  openId: string;
  avatarUrl: string;
}

export interface DingTalkStandIn extends StandInServer {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly user: DingTalkUser;
  /** When true, the authorize page comes back with error=access_denied, as when the user refuses. */
  setCancelled(cancelled: boolean): void;
}

const CODE_LIFETIME_MS = 5 * 60_000;

export async function startDingTalkStandIn(options: { clientId?: string; clientSecret?: string; user?: DingTalkUser } = {}): Promise<DingTalkStandIn> {
  const clientId = options.clientId ?? 'dingstandinclientid';
  const clientSecret = options.clientSecret ?? 'dingtalk-stand-in-secret';
  const user = options.user ?? { nick: '张老师', unionId: 'dt-union-1', openId: 'dt-open-1', avatarUrl: 'https://static.example/dt.png' };
  let cancelled = false;
  const codes = new Map<string, { issuedAt: number; used: boolean }>();
  const tokens = new Set<string>();
  let clock: () => number = Date.now;
  const refuse = (response: ServerResponse, code: string, message: string) => sendJson(response, { code, message, requestid: randomUUID().toUpperCase() }, 400);

  const server = await startStandInServer({
    '/oauth2/auth': (query, response) => {
      const redirectUri = query.get('redirect_uri');
      if (query.get('client_id') !== clientId || !redirectUri || !URL.canParse(redirectUri) || query.get('response_type') !== 'code') return refuse(response, 'invalidParameter', 'client_id, redirect_uri or response_type');
      const state = query.get('state');
      if (cancelled) return redirectBack(response, redirectUri, { error: 'access_denied', state });
      const code = randomBytes(12).toString('hex');
      codes.set(code, { issuedAt: clock(), used: false });
      redirectBack(response, redirectUri, { authCode: code, state });
    },
    'POST /v1.0/oauth2/userAccessToken': (_query, response, _request, body) => {
      const request = parseJson(body);
      if (request.clientId !== clientId || request.clientSecret !== clientSecret) return refuse(response, 'InvalidAuthentication', '不合法的clientId或clientSecret');
      if (request.grantType !== 'authorization_code') return refuse(response, 'invalidParameter.grantType', 'grantType');
      const issued = codes.get(typeof request.code === 'string' ? request.code : '');
      if (!issued || issued.used) return refuse(response, 'invalidParameter.authCode.notFound', '不合法的临时授权码');
      issued.used = true;
      if (clock() - issued.issuedAt > CODE_LIFETIME_MS) return refuse(response, 'invalidParameter.authCode.expired', '临时授权码已过期');
      const accessToken = randomBytes(16).toString('hex');
      tokens.add(accessToken);
      sendJson(response, { accessToken, refreshToken: randomBytes(16).toString('hex'), expireIn: 7200 });
    },
    '/v1.0/contact/users/me': (_query, response, request) => {
      if (!tokens.has(String(request.headers['x-acs-dingtalk-access-token'] ?? ''))) return refuse(response, 'InvalidAuthentication', '不合法的access_token');
      sendJson(response, { nick: user.nick, unionId: user.unionId, openId: user.openId, avatarUrl: user.avatarUrl, stateCode: '86' });
    },
  });
  clock = server.now;
  return {
    ...server,
    clientId,
    clientSecret,
    user,
    setCancelled(next) {
      cancelled = next;
    },
  };
}
