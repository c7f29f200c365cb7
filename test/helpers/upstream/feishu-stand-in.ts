// Feishu's web sign-in as its documents describe it: accounts.feishu.cn/open-apis/authen/v1/authorize
// redirects back with code + state (error=access_denied when refused); open-apis/authen/v2/oauth/token
// takes JSON {grant_type, client_id, client_secret, code, redirect_uri} and answers RFC 6749 fields
// beside Feishu's `code` (errors: HTTP 400 {code, error, error_description}; the adapter keys on the RFC
// 6749 `error`, invalid_grant, not on the numeric codes chosen here); open-apis/authen/v1/user_info
// answers the {code, msg, data} envelope — an unknown token is code 99991668 with HTTP 200 here, as
// Feishu sometimes does, so the adapter must read `code`, not the status.
import { randomBytes } from 'node:crypto';
import { json, parseJson, redirect, StandIn, type StandInUser } from './stand-in.js';

export interface FeishuStandIn extends StandIn {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly tenantKey: string;
}

export async function startFeishuStandIn(options: { clientId?: string; clientSecret?: string; user?: StandInUser; codeLifetimeMs?: number } = {}): Promise<FeishuStandIn> {
  const clientId = options.clientId ?? 'cli_standin0000001';
  const clientSecret = options.clientSecret ?? 'feishu-stand-in-secret';
  const tenantKey = '736588c92lxf175d';
  const tokens = new Map<string, StandInUser>();
  const tokenError = (code: number, error: string, description: string) => ({ code, error, error_description: description });

  const standIn: StandIn = new StandIn({
    'GET /open-apis/authen/v1/authorize': (_req, url, _body, res) => {
      const q = url.searchParams;
      const redirectUri = q.get('redirect_uri');
      if (q.get('client_id') !== clientId || !redirectUri) return json(res, 400, { code: 20029, msg: 'redirect_uri or client_id invalid' });
      const state = q.get('state') ?? '';
      if (standIn.deny) return redirect(res, redirectUri, { error: 'access_denied', state });
      redirect(res, redirectUri, { code: standIn.issueCode(redirectUri), state });
    },
    'POST /open-apis/authen/v2/oauth/token': (_req, _url, body, res) => {
      const request = parseJson(body);
      if (request.grant_type !== 'authorization_code') return json(res, 400, tokenError(20001, 'unsupported_grant_type', 'grant_type'));
      if (request.client_id !== clientId || request.client_secret !== clientSecret) return json(res, 400, tokenError(20002, 'invalid_client', 'client_id or client_secret'));
      const issued = standIn.redeem(typeof request.code === 'string' ? request.code : undefined);
      if (issued === 'unknown') return json(res, 400, tokenError(20003, 'invalid_grant', 'The authorization code is not found or has been used'));
      if (issued === 'expired') return json(res, 400, tokenError(20004, 'invalid_grant', 'The authorization code has expired'));
      if (request.redirect_uri !== issued.redirectUri) return json(res, 400, tokenError(20071, 'invalid_grant', 'redirect_uri does not match'));
      const accessToken = `u-${randomBytes(16).toString('hex')}`;
      tokens.set(accessToken, issued.user);
      json(res, 200, { code: 0, access_token: accessToken, expires_in: 7200, token_type: 'Bearer', scope: '' });
    },
    'GET /open-apis/authen/v1/user_info': (req, _url, _body, res) => {
      const user = tokens.get(String(req.headers.authorization ?? '').replace(/^Bearer /, ''));
      if (!user) return json(res, 200, { code: 99991668, msg: 'Invalid access token for authorization. Please make a request with token attached.' });
      json(res, 200, {
        code: 0,
        msg: 'success',
        data: { name: user.name, en_name: '', avatar_url: user.avatarUrl, avatar_thumb: user.avatarUrl, open_id: user.openId, union_id: user.unionId, tenant_key: tenantKey },
      });
    },
  }, options.user ?? { name: '李老师', unionId: 'on_standin_union_1', openId: 'ou_standin_open_1', avatarUrl: 'https://static.example/fs.png' }, options.codeLifetimeMs);
  return Object.assign(await standIn.listen(), { clientId, clientSecret, tenantKey });
}
