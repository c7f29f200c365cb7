// The DingTalk and Feishu adapters against stand-ins that implement each provider's documented
// endpoints, field names and error envelopes (not the live services): the exact authorize URL, a
// full sign-in, single-use and expiring codes, a refusing user, error envelopes, a hanging or absent provider.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dingtalk } from '../../src/federation/dingtalk.js';
import { feishu } from '../../src/federation/feishu.js';
import { UpstreamError, type ProviderName, type ProviderSettings, type StartedFlow, type UpstreamProvider } from '../../src/federation/types.js';
import { startDingTalkStandIn, type DingTalkStandIn } from '../helpers/upstream/dingtalk-stand-in.js';
import { startFeishuStandIn, type FeishuStandIn } from '../helpers/upstream/feishu-stand-in.js';

type StandIn = DingTalkStandIn | FeishuStandIn;

const CALLBACK = 'http://127.0.0.1:9/api/auth/providers/NAME/callback';

function settings(name: ProviderName, standIn: StandIn, overrides: Partial<ProviderSettings> = {}): ProviderSettings {
  return { name, appId: standIn.clientId, appSecret: standIn.clientSecret, authorizeUrl: standIn.url, apiUrl: standIn.url, extra: {}, boundOrganizationId: null, enabled: true, ...overrides };
}

/** A fetch that gives up after a moment, as the sign-in flow injects one. */
const patientFetch: typeof fetch = (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(500) });

/** The browser at the authorize page: the stand-in redirects straight back; the callback's query. */
async function authorize(flow: StartedFlow & { callbackUrl: string }): Promise<URLSearchParams> {
  const res = await fetch(flow.authorizeUrl, { redirect: 'manual' });
  assert.equal(res.status, 302, await res.text());
  const back = new URL(res.headers.get('location')!);
  assert.equal(back.origin + back.pathname, flow.callbackUrl);
  return back.searchParams;
}

async function refusal(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  assert.ok(error instanceof UpstreamError, `expected an UpstreamError, got ${String(error)}`);
  return error;
}

interface Case {
  name: 'dingtalk' | 'feishu';
  provider: UpstreamProvider;
  start: () => Promise<StandIn>;
  authorizePath: string;
  expectedParams: (s: { clientId: string }, state: string, callback: string) => Record<string, string>;
  codeParam: string;
  tokenPath: string;
  userInfoPath: string;
  /** A documented error the user info call can answer, and the code the adapter must keep. */
  userInfoError: { status: number; body: unknown; providerCode: string | number };
  identity: (s: StandIn) => { subject: string; displayName: string; avatarUrl: string; details: Record<string, string> };
}

const cases: Case[] = [
  {
    name: 'dingtalk',
    provider: dingtalk,
    start: () => startDingTalkStandIn(),
    authorizePath: '/oauth2/auth',
    expectedParams: (s, state, callback) => ({ redirect_uri: callback, response_type: 'code', client_id: s.clientId, scope: 'openid', state, prompt: 'consent' }),
    codeParam: 'authCode',
    tokenPath: '/v1.0/oauth2/userAccessToken',
    userInfoPath: '/v1.0/contact/users/me',
    userInfoError: { status: 403, body: { code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied', message: '没有调用该接口的权限', requestid: 'X' }, providerCode: 'Forbidden.AccessDenied.AccessTokenPermissionDenied' },
    identity: (s) => {
      const { user } = s as DingTalkStandIn;
      return { subject: user.unionId, displayName: user.nick, avatarUrl: user.avatarUrl, details: { openId: user.openId } };
    },
  },
  {
    name: 'feishu',
    provider: feishu,
    start: () => startFeishuStandIn(),
    authorizePath: '/open-apis/authen/v1/authorize',
    expectedParams: (s, state, callback) => ({ client_id: s.clientId, redirect_uri: callback, state }),
    codeParam: 'code',
    tokenPath: '/open-apis/authen/v2/oauth/token',
    userInfoPath: '/open-apis/authen/v1/user_info',
    // Feishu answers some errors with HTTP 200 and only a non-zero code.
    userInfoError: { status: 200, body: { code: 99991672, msg: 'Access denied. One of the following scopes is required' }, providerCode: 99991672 },
    identity: (s) => {
      const { user, tenantKey } = s as FeishuStandIn;
      return { subject: user.unionId, displayName: user.name, avatarUrl: user.avatarUrl, details: { open_id: user.openId, tenant_key: tenantKey } };
    },
  },
];

for (const c of cases) {
  describe(`${c.name} upstream adapter`, () => {
    let standIn: StandIn;
    const callback = CALLBACK.replace('NAME', c.name);
    before(async () => {
      standIn = await c.start();
    });
    after(() => standIn.close());

    async function begin(state = `state-${Math.random()}`) {
      const flow = await c.provider.start(settings(c.name, standIn), state, callback);
      return { flow: { ...flow, callbackUrl: callback }, state };
    }

    it('sends the browser to the documented authorize URL with exactly its parameters, and the default base when none is set', async () => {
      const { flow, state } = await begin('st4te');
      const url = new URL(flow.authorizeUrl);
      assert.equal(url.origin + url.pathname, standIn.url + c.authorizePath);
      assert.deepEqual(Object.fromEntries(url.searchParams), c.expectedParams(standIn, state, callback));
      assert.deepEqual(flow.secrets, {});
      const live = await c.provider.start(settings(c.name, standIn, { authorizeUrl: null }), 's', callback);
      assert.equal(new URL(live.authorizeUrl).origin, c.name === 'dingtalk' ? 'https://login.dingtalk.com' : 'https://accounts.feishu.cn');
    });

    it('finishes a sign-in: the code becomes a token, the token the user, keyed by union id', async () => {
      const { flow, state } = await begin();
      const query = await authorize(flow);
      assert.equal(query.get('state'), state);
      assert.ok(query.get(c.codeParam));
      const identity = await c.provider.finish(settings(c.name, standIn), query, flow, patientFetch);
      assert.deepEqual(identity, { provider: c.name, ...c.identity(standIn) });
      const tokenCall = standIn.lastRequest(c.tokenPath)!;
      assert.match(String(tokenCall.headers['content-type']), /^application\/json/);
      const sent = JSON.parse(tokenCall.body) as Record<string, unknown>;
      if (c.name === 'dingtalk') assert.deepEqual(sent, { clientId: standIn.clientId, clientSecret: standIn.clientSecret, code: query.get('authCode'), grantType: 'authorization_code' });
      else assert.deepEqual(sent, { grant_type: 'authorization_code', client_id: standIn.clientId, client_secret: standIn.clientSecret, code: query.get('code'), redirect_uri: callback });
    });

    it('refuses a replayed callback: the code is single-use', async () => {
      const { flow } = await begin();
      const query = await authorize(flow);
      await c.provider.finish(settings(c.name, standIn), query, flow, patientFetch);
      const error = await refusal(c.provider.finish(settings(c.name, standIn), query, flow, patientFetch));
      assert.equal(error.code, 'UPSTREAM_CODE_INVALID');
    });

    it('refuses a code older than its lifetime', async () => {
      const { flow } = await begin();
      const query = await authorize(flow);
      standIn.advance(5 * 60_000 + 1);
      const error = await refusal(c.provider.finish(settings(c.name, standIn), query, flow, patientFetch));
      assert.equal(error.code, 'UPSTREAM_CODE_INVALID');
      assert.match(String(error.providerCode), c.name === 'dingtalk' ? /expired/ : /^20004$/);
    });

    it('reports a user who cancels as denied, without calling the provider', async () => {
      const { flow } = await begin();
      standIn.setCancelled(true);
      const query = await authorize(flow).finally(() => standIn.setCancelled(false));
      assert.equal(query.get('error'), 'access_denied');
      const tokenCalls = standIn.calls(c.tokenPath);
      const error = await refusal(c.provider.finish(settings(c.name, standIn), query, flow, patientFetch));
      assert.equal(error.code, 'UPSTREAM_DENIED');
      assert.equal(standIn.calls(c.tokenPath), tokenCalls);
    });

    it("reads the provider's error envelope: a refused user info call is a bad response carrying the provider's code", async () => {
      const { flow } = await begin();
      const query = await authorize(flow);
      standIn.answerNext(c.userInfoPath, c.userInfoError.status, c.userInfoError.body);
      const error = await refusal(c.provider.finish(settings(c.name, standIn), query, flow, patientFetch));
      assert.equal(error.code, 'UPSTREAM_BAD_RESPONSE');
      assert.equal(error.providerCode, c.userInfoError.providerCode);
    });

    it('reports a wrong app secret with the provider code, not as a success', async () => {
      const { flow } = await begin();
      const query = await authorize(flow);
      const error = await refusal(c.provider.finish(settings(c.name, standIn, { appSecret: 'wrong' }), query, flow, patientFetch));
      assert.notEqual(error.providerCode, undefined);
      assert.equal(error.providerCode, c.name === 'dingtalk' ? 'InvalidAuthentication' : 20002);
    });

    it('gives up on a provider that hangs as unavailable (the injected fetch times out)', { timeout: 15_000 }, async () => {
      const { flow } = await begin();
      const query = await authorize(flow);
      standIn.setOutage('hang');
      try {
        const error = await refusal(c.provider.finish(settings(c.name, standIn), query, flow, patientFetch));
        assert.equal(error.code, 'UPSTREAM_UNAVAILABLE');
      } finally {
        standIn.setOutage('none');
      }
    });

    // Last: it takes the stand-in down for good.
    it('reports a provider that is failing (HTTP 5xx) or down (connection refused) as unavailable', async () => {
      const { flow } = await begin();
      const query = await authorize(flow);
      standIn.answerNext(c.tokenPath, 503, { code: 'ServiceUnavailable', message: 'busy' });
      assert.equal((await refusal(c.provider.finish(settings(c.name, standIn), query, flow, patientFetch))).code, 'UPSTREAM_UNAVAILABLE');
      standIn.setOutage('http-502');
      assert.equal((await refusal(c.provider.finish(settings(c.name, standIn), query, flow, patientFetch))).code, 'UPSTREAM_UNAVAILABLE');
      standIn.setOutage('none');
      await standIn.close();
      const error = await refusal(c.provider.finish(settings(c.name, standIn), query, flow, patientFetch));
      assert.equal(error.code, 'UPSTREAM_UNAVAILABLE');
    });
  });
}
