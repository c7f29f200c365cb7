// A local Feishu, its web sign-in as documented: /open-apis/authen/v1/authorize (accounts.feishu.cn)
// redirects back with code + state (error=access_denied when the user refuses);
// /open-apis/authen/v2/oauth/token takes JSON {grant_type, client_id, client_secret, code, redirect_uri}
// and answers RFC 6749 fields beside Feishu's `code`, errors as HTTP 400 {code, error, error_description}
// (the adapter keys on the RFC 6749 `error`, invalid_grant, not on the numeric codes chosen here);
// /open-apis/authen/v1/user_info answers the {code, msg, data} envelope — an unknown token is code
// 99991668 with HTTP 200 here, as Feishu sometimes does, so the adapter must read `code`, not the status.
// Codes are single-use and lapse after 5 minutes on the stand-in's clock.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { parseJson, redirectBack, sendJson, startStandInServer, type StandInServer } from './stand-in-server.js';

export interface FeishuUser {
  name: string;
  unionId: string;
  openId: string;
  avatarUrl: string;
}

export interface FeishuStandIn extends StandInServer {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly tenantKey: string;
  readonly user: FeishuUser;
  setCancelled(cancelled: boolean): void;
}

const CODE_LIFETIME_MS = 5 * 60_000;

export async function startFeishuStandIn(options: { clientId?: string; clientSecret?: string; user?: FeishuUser } = {}): Promise<FeishuStandIn> {
  const clientId = options.clientId ?? 'cli_standin0000001';
  const clientSecret = options.clientSecret ?? 'feishu-stand-in-secret';
  const tenantKey = '736588c92lxf175d';
  const user = options.user ?? { name: '李老师', unionId: 'on_standin_union_1', openId: 'ou_standin_open_1', avatarUrl: 'https://static.example/fs.png' };
  let cancelled = false;
  const codes = new Map<string, { redirectUri: string; issuedAt: number; used: boolean }>();
  const tokens = new Set<string>();
  let clock: () => number = Date.now;
  const refuse = (response: ServerResponse, code: number, error: string, description: string) => sendJson(response, { code, error, error_description: description }, 400);

  const server = await startStandInServer({
    '/open-apis/authen/v1/authorize': (query, response) => {
      const redirectUri = query.get('redirect_uri');
      if (query.get('client_id') !== clientId || !redirectUri || !URL.canParse(redirectUri)) return sendJson(response, { code: 20029, msg: 'redirect_uri or client_id invalid' }, 400);
      const state = query.get('state');
      if (cancelled) return redirectBack(response, redirectUri, { error: 'access_denied', state });
      const code = randomBytes(12).toString('hex');
      codes.set(code, { redirectUri, issuedAt: clock(), used: false });
      redirectBack(response, redirectUri, { code, state });
    },
    'POST /open-apis/authen/v2/oauth/token': (_query, response, _request, body) => {
      const request = parseJson(body);
      if (request.grant_type !== 'authorization_code') return refuse(response, 20001, 'unsupported_grant_type', 'grant_type');
      if (request.client_id !== clientId || request.client_secret !== clientSecret) return refuse(response, 20002, 'invalid_client', 'client_id or client_secret');
      const issued = codes.get(typeof request.code === 'string' ? request.code : '');
      if (!issued || issued.used) return refuse(response, 20003, 'invalid_grant', 'The authorization code is not found or has been used');
      issued.used = true;
      if (clock() - issued.issuedAt > CODE_LIFETIME_MS) return refuse(response, 20004, 'invalid_grant', 'The authorization code has expired');
      if (request.redirect_uri !== issued.redirectUri) return refuse(response, 20071, 'invalid_grant', 'redirect_uri does not match');
      const accessToken = `u-${randomBytes(16).toString('hex')}`;
      tokens.add(accessToken);
      sendJson(response, { code: 0, access_token: accessToken, expires_in: 7200, token_type: 'Bearer', scope: '' });
    },
    '/open-apis/authen/v1/user_info': (_query, response, request) => {
      if (!tokens.has(String(request.headers.authorization ?? '').replace(/^Bearer /, ''))) {
        return sendJson(response, { code: 99991668, msg: 'Invalid access token for authorization. Please make a request with token attached.' });
      }
      sendJson(response, {
        code: 0,
        msg: 'success',
        data: { name: user.name, en_name: '', avatar_url: user.avatarUrl, avatar_thumb: user.avatarUrl, open_id: user.openId, union_id: user.unionId, tenant_key: tenantKey },
      });
    },
  });
  clock = server.now;
  return {
    ...server,
    clientId,
    clientSecret,
    tenantKey,
    user,
    setCancelled(next) {
      cancelled = next;
    },
  };
}
