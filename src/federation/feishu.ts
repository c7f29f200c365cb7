// Feishu (飞书) web sign-in: the authorize page on accounts.feishu.cn, the OAuth token endpoint
// (authen/v2/oauth/token, RFC 6749 shaped) and authen/v1/user_info on open.feishu.cn. Identities are
// keyed by union_id (one person across one developer's apps); open_id is per app, kept as a detail.
import { UpstreamError, type ExternalIdentity, type UpstreamProvider } from './types.js';
import { base, callUpstream, text, type UpstreamAnswer } from './upstream-http.js';

const AUTHORIZE_BASE = 'https://accounts.feishu.cn';
const API_BASE = 'https://open.feishu.cn';

/** Feishu's token error codes that mean the user, not the code or the app, is refused: 20010 the user may not use the app. */
const USER_REFUSED = new Set([20010]);

export const feishu: UpstreamProvider = {
  name: 'feishu',

  async start(settings, state, callbackUrl) {
    const url = new URL(`${base(settings.authorizeUrl, AUTHORIZE_BASE)}/open-apis/authen/v1/authorize`);
    // No scope: signing in needs only the identity user_info answers without extra permissions.
    url.search = new URLSearchParams({ client_id: settings.appId, redirect_uri: callbackUrl, state }).toString();
    return { authorizeUrl: url.toString(), secrets: {} };
  },

  async finish(settings, callback, flow, fetch) {
    const code = callback.get('code');
    // A user who refuses comes back with error=access_denied and no code.
    if (callback.get('error') || !code) throw new UpstreamError('UPSTREAM_DENIED', `Feishu sign-in not granted: ${callback.get('error') ?? 'no code'}`, callback.get('error') ?? undefined);
    const api = base(settings.apiUrl, API_BASE);

    const token = await callUpstream(fetch, `${api}/open-apis/authen/v2/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ grant_type: 'authorization_code', client_id: settings.appId, client_secret: settings.appSecret, code, redirect_uri: flow.callbackUrl }),
    }, 'Feishu oauth/token');
    refuseOnError(token, 'Feishu oauth/token', true);
    const accessToken = text(token.body, 'access_token');
    if (!accessToken) throw new UpstreamError('UPSTREAM_BAD_RESPONSE', 'Feishu oauth/token answered no access_token');

    const info = await callUpstream(fetch, `${api}/open-apis/authen/v1/user_info`, { headers: { authorization: `Bearer ${accessToken}` } }, 'Feishu user_info');
    refuseOnError(info, 'Feishu user_info', false);
    const data = info.body.data as Record<string, unknown> | undefined;
    const unionId = text(data, 'union_id');
    if (!unionId) throw new UpstreamError('UPSTREAM_BAD_RESPONSE', 'Feishu user_info answered no union_id');
    return identity(unionId, data!);
  },
};

/** Feishu's envelope: `code` 0 is success, anything else an error — sometimes with HTTP 200, so the status alone is not enough. */
function refuseOnError(answer: UpstreamAnswer, what: string, exchangingCode: boolean): void {
  const code = answer.body.code;
  if (answer.status === 200 && code === 0) return;
  const providerCode = typeof code === 'number' ? code : answer.status;
  const message = `${what}: HTTP ${answer.status} code ${String(code)}: ${text(answer.body, 'error_description') ?? text(answer.body, 'msg') ?? text(answer.body, 'error') ?? ''}`;
  if (exchangingCode && typeof code === 'number' && USER_REFUSED.has(code)) throw new UpstreamError('UPSTREAM_DENIED', message, providerCode);
  // invalid_grant: the code is unknown, used (single-use) or older than its 5 minutes.
  if (exchangingCode && text(answer.body, 'error') === 'invalid_grant') throw new UpstreamError('UPSTREAM_CODE_INVALID', message, providerCode);
  throw new UpstreamError('UPSTREAM_BAD_RESPONSE', message, providerCode);
}

function identity(unionId: string, data: Record<string, unknown>): ExternalIdentity {
  const details: Record<string, string> = {};
  for (const field of ['open_id', 'tenant_key'] as const) {
    const value = text(data, field);
    if (value) details[field] = value;
  }
  return { provider: 'feishu', subject: unionId, displayName: text(data, 'name'), avatarUrl: text(data, 'avatar_url'), details };
}
