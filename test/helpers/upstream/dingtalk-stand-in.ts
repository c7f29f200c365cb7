// DingTalk's current OAuth 2.0 as its documents describe it: login.dingtalk.com/oauth2/auth redirects
// back with authCode + state (error + state when refused); api.dingtalk.com/v1.0/oauth2/userAccessToken
// takes JSON {clientId, clientSecret, code, grantType}; /v1.0/contact/users/me reads the
// x-acs-dingtalk-access-token header. Errors are HTTP 400 with {code, message, requestid}; the shape and
// InvalidAuthentication are DingTalk's, the authCode error code strings are this stand-in's own (the
// adapter keys on the status and keeps whatever code DingTalk sends).
import { randomBytes, randomUUID } from 'node:crypto';
import { json, parseJson, redirect, StandIn, type StandInUser } from './stand-in.js';

export interface DingTalkStandIn extends StandIn {
  readonly clientId: string;
  readonly clientSecret: string;
}

export async function startDingTalkStandIn(options: { clientId?: string; clientSecret?: string; user?: StandInUser; codeLifetimeMs?: number } = {}): Promise<DingTalkStandIn> {
  const clientId = options.clientId ?? 'dingstandinclientid';
  const clientSecret = options.clientSecret ?? 'dingtalk-stand-in-secret';
  const tokens = new Map<string, StandInUser>();
  const error = (code: string, message: string) => ({ code, message, requestid: randomUUID().toUpperCase() });

  const standIn: StandIn = new StandIn({
    'GET /oauth2/auth': (_req, url, _body, res) => {
      const q = url.searchParams;
      const redirectUri = q.get('redirect_uri');
      if (q.get('client_id') !== clientId || !redirectUri || q.get('response_type') !== 'code') return json(res, 400, error('invalidParameter', 'client_id, redirect_uri or response_type'));
      const state = q.get('state') ?? '';
      if (standIn.deny) return redirect(res, redirectUri, { error: 'access_denied', state });
      redirect(res, redirectUri, { authCode: standIn.issueCode(redirectUri), state });
    },
    'POST /v1.0/oauth2/userAccessToken': (_req, _url, body, res) => {
      const request = parseJson(body);
      if (request.clientId !== clientId || request.clientSecret !== clientSecret) return json(res, 400, error('InvalidAuthentication', '不合法的clientId或clientSecret'));
      if (request.grantType !== 'authorization_code') return json(res, 400, error('invalidParameter.grantType', 'grantType'));
      const issued = standIn.redeem(typeof request.code === 'string' ? request.code : undefined);
      if (issued === 'unknown') return json(res, 400, error('invalidParameter.authCode.notFound', '不合法的临时授权码'));
      if (issued === 'expired') return json(res, 400, error('invalidParameter.authCode.expired', '临时授权码已过期'));
      const accessToken = randomBytes(16).toString('hex');
      tokens.set(accessToken, issued.user);
      json(res, 200, { accessToken, refreshToken: randomBytes(16).toString('hex'), expireIn: 7200 });
    },
    'GET /v1.0/contact/users/me': (req, _url, _body, res) => {
      const user = tokens.get(String(req.headers['x-acs-dingtalk-access-token'] ?? ''));
      if (!user) return json(res, 400, error('InvalidAuthentication', '不合法的access_token'));
      json(res, 200, { nick: user.name, unionId: user.unionId, openId: user.openId, avatarUrl: user.avatarUrl, stateCode: '86' });
    },
  }, options.user ?? { name: '张老师', unionId: 'dt-union-1', openId: 'dt-open-1', avatarUrl: 'https://static.example/dt.png' }, options.codeLifetimeMs);
  return Object.assign(await standIn.listen(), { clientId, clientSecret });
}
