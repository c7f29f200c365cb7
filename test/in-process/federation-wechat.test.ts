// The WeChat (website QR and in-app) and WeCom providers against local stand-ins that answer the way
// Tencent does: errors as HTTP 200 with errcode, single-use short-lived codes, openid beside the token,
// non-members known only by openid. Each sign-in goes through the stand-in's authorize page, as a
// browser would, and comes back with the code it issued.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UpstreamError, type ProviderName, type ProviderSettings, type UpstreamProvider } from '../../src/federation/types.js';
import { wechat, wechatMp } from '../../src/federation/wechat.js';
import { createWeComProvider, TOKEN_MARGIN_MS } from '../../src/federation/wecom.js';
import { freePort } from '../helpers/cluster.js';
import { startWeChatStandIn, type WeChatStandIn } from '../helpers/upstream/wechat-stand-in.js';
import { startWeComStandIn, type WeComStandIn } from '../helpers/upstream/wecom-stand-in.js';

const CALLBACK = 'https://gatehouse.example/api/auth/providers/wechat/callback';
const ALICE = { openid: 'o-alice-website', unionid: 'u-alice', nickname: '王老师', headimgurl: 'https://thirdwx.qlogo.cn/alice/132' };
const BOB = { openid: 'o-bob-website', nickname: 'Bob', headimgurl: '' };

/** A fetch that gives up after a short while, as the sign-in flow's injected fetch does. */
const boundedFetch: typeof fetch = (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(300) });

function settings(name: ProviderName, fields: Partial<ProviderSettings> = {}): ProviderSettings {
  return { name, appId: 'app', appSecret: 'secret', authorizeUrl: null, apiUrl: null, extra: {}, boundOrganizationId: null, enabled: true, ...fields };
}

/** Starts a sign-in, follows the authorize URL to the stand-in's page, and returns the callback query it redirects to. */
async function throughAuthorizePage(provider: UpstreamProvider, config: ProviderSettings, state: string) {
  const flow = await provider.start(config, state, CALLBACK);
  const page = await fetch(flow.authorizeUrl, { redirect: 'manual' });
  assert.equal(page.status, 302, `the authorize page redirects back (got ${page.status}: ${await page.text()})`);
  const back = new URL(page.headers.get('location')!);
  assert.equal(`${back.origin}${back.pathname}`, CALLBACK);
  assert.equal(back.searchParams.get('state'), state, 'state comes back unchanged');
  return { flow: { ...flow, callbackUrl: CALLBACK }, callback: back.searchParams };
}

async function upstreamError(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof UpstreamError, `an UpstreamError, not ${String(error)}`);
    return error;
  }
  assert.fail('expected the provider to refuse');
}

describe('WeChat start', () => {
  it('website login: the Open Platform QR page with exactly appid, redirect_uri, response_type, scope=snsapi_login, state, and #wechat_redirect', async () => {
    const flow = await wechat.start(settings('wechat', { appId: 'wx123' }), 'st-1', CALLBACK);
    const url = new URL(flow.authorizeUrl);
    assert.equal(`${url.origin}${url.pathname}`, 'https://open.weixin.qq.com/connect/qrconnect');
    assert.deepEqual([...url.searchParams], [
      ['appid', 'wx123'],
      ['redirect_uri', CALLBACK],
      ['response_type', 'code'],
      ['scope', 'snsapi_login'],
      ['state', 'st-1'],
    ]);
    assert.equal(url.hash, '#wechat_redirect');
    assert.match(flow.authorizeUrl, /redirect_uri=https%3A%2F%2Fgatehouse\.example%2F/, 'redirect_uri is URL-encoded');
    assert.deepEqual(flow.secrets, {});
  });

  it('in-app login: the Official Account authorize page with snsapi_userinfo, or snsapi_base when configured', async () => {
    const url = new URL((await wechatMp.start(settings('wechat_mp', { appId: 'wxmp' }), 'st-2', CALLBACK)).authorizeUrl);
    assert.equal(`${url.origin}${url.pathname}`, 'https://open.weixin.qq.com/connect/oauth2/authorize');
    assert.deepEqual([...url.searchParams.keys()], ['appid', 'redirect_uri', 'response_type', 'scope', 'state']);
    assert.equal(url.searchParams.get('scope'), 'snsapi_userinfo');
    assert.equal(url.hash, '#wechat_redirect');
    const base = new URL((await wechatMp.start(settings('wechat_mp', { extra: { scope: 'snsapi_base' } }), 's', CALLBACK)).authorizeUrl);
    assert.equal(base.searchParams.get('scope'), 'snsapi_base');
    await assert.rejects(wechatMp.start(settings('wechat_mp', { extra: { scope: 'snsapi_login' } }), 's', CALLBACK), /snsapi_base or snsapi_userinfo/);
  });

  it('a configured authorize base replaces open.weixin.qq.com, keeping its own path (a proxy)', async () => {
    const url = new URL((await wechat.start(settings('wechat', { authorizeUrl: 'https://proxy.example/wx/' }), 's', CALLBACK)).authorizeUrl);
    assert.equal(`${url.origin}${url.pathname}`, 'https://proxy.example/wx/connect/qrconnect');
  });
});

describe('WeChat finish against the stand-in', () => {
  let wx: WeChatStandIn;
  let config: ProviderSettings;
  let mpConfig: ProviderSettings;
  before(async () => {
    wx = await startWeChatStandIn({ user: ALICE });
    const common = { appId: wx.appId, appSecret: wx.appSecret, authorizeUrl: wx.url, apiUrl: wx.url };
    config = settings('wechat', common);
    mpConfig = settings('wechat_mp', common);
  });
  after(() => wx.close());

  it('with a unionid: the subject is the unionid, the openid is kept in details, nickname and avatar come from userinfo', async () => {
    wx.setUser(ALICE);
    const { flow, callback } = await throughAuthorizePage(wechat, config, 'state-a');
    const identity = await wechat.finish(config, callback, flow, boundedFetch);
    assert.deepEqual(identity, {
      provider: 'wechat',
      subject: 'u-alice',
      displayName: '王老师',
      avatarUrl: 'https://thirdwx.qlogo.cn/alice/132',
      details: { openid: 'o-alice-website', unionid: 'u-alice' },
    });
  });

  it('without a unionid (app not bound to an Open Platform account): the subject is the openid; an empty avatar is none', async () => {
    wx.setUser(BOB);
    const { flow, callback } = await throughAuthorizePage(wechat, config, 'state-b');
    const identity = await wechat.finish(config, callback, flow, boundedFetch);
    assert.equal(identity.subject, 'o-bob-website');
    assert.deepEqual(identity.details, { openid: 'o-bob-website' });
    assert.equal(identity.avatarUrl, null);
    assert.equal(identity.displayName, 'Bob');
  });

  it('inside WeChat: the same person (same unionid, another openid) has the same subject as on the website', async () => {
    wx.setUser({ ...ALICE, openid: 'o-alice-official-account' });
    const { flow, callback } = await throughAuthorizePage(wechatMp, mpConfig, 'state-mp');
    const identity = await wechatMp.finish(mpConfig, callback, flow, boundedFetch);
    assert.equal(identity.provider, 'wechat_mp');
    assert.equal(identity.subject, 'u-alice');
    assert.equal(identity.details.openid, 'o-alice-official-account');
  });

  it('snsapi_base: the identity comes from the token answer alone; userinfo (which would answer 48001) is not called', async () => {
    wx.setUser(ALICE);
    const baseConfig = { ...mpConfig, extra: { scope: 'snsapi_base' } };
    const before = wx.calls('/sns/userinfo');
    const { flow, callback } = await throughAuthorizePage(wechatMp, baseConfig, 'state-base');
    const identity = await wechatMp.finish(baseConfig, callback, flow, boundedFetch);
    assert.equal(identity.subject, 'u-alice');
    assert.equal(identity.displayName, null);
    assert.equal(wx.calls('/sns/userinfo'), before);
  });

  it('a code used twice: the second finish is UPSTREAM_CODE_INVALID (WeChat 40163, HTTP 200)', async () => {
    wx.setUser(ALICE);
    const { flow, callback } = await throughAuthorizePage(wechat, config, 'state-r');
    await wechat.finish(config, callback, flow, boundedFetch);
    const error = await upstreamError(wechat.finish(config, callback, flow, boundedFetch));
    assert.equal(error.code, 'UPSTREAM_CODE_INVALID');
    assert.equal(error.providerCode, 40163);
  });

  it('an unknown code, and a code older than 5 minutes: UPSTREAM_CODE_INVALID (40029)', async () => {
    const unknown = await upstreamError(wechat.finish(config, new URLSearchParams({ code: 'forged', state: 's' }), { authorizeUrl: '', secrets: {}, callbackUrl: CALLBACK }, boundedFetch));
    assert.equal(unknown.code, 'UPSTREAM_CODE_INVALID');
    assert.equal(unknown.providerCode, 40029);

    const code = wx.issueCode();
    wx.advance(5 * 60_000 + 1000);
    const expired = await upstreamError(wechat.finish(config, new URLSearchParams({ code, state: 's' }), { authorizeUrl: '', secrets: {}, callbackUrl: CALLBACK }, boundedFetch));
    assert.equal(expired.code, 'UPSTREAM_CODE_INVALID');
    assert.equal(expired.providerCode, 40029);
  });

  it('the user declines: WeChat comes back with only state, and the finish is UPSTREAM_DENIED without calling the API', async () => {
    wx.setCancelled(true);
    try {
      const { flow, callback } = await throughAuthorizePage(wechat, config, 'state-c');
      assert.equal(callback.has('code'), false);
      const before = wx.calls('/sns/oauth2/access_token');
      const error = await upstreamError(wechat.finish(config, callback, flow, boundedFetch));
      assert.equal(error.code, 'UPSTREAM_DENIED');
      assert.equal(wx.calls('/sns/oauth2/access_token'), before);
    } finally {
      wx.setCancelled(false);
    }
  });

  it('a wrong app secret: UPSTREAM_DENIED with WeChat\'s errcode, and the secret is not in the message', async () => {
    const wrong = { ...config, appSecret: 'not-the-secret-7f3a' };
    const error = await upstreamError(wechat.finish(wrong, new URLSearchParams({ code: wx.issueCode() }), { authorizeUrl: '', secrets: {}, callbackUrl: CALLBACK }, boundedFetch));
    assert.equal(error.code, 'UPSTREAM_DENIED');
    assert.equal(error.providerCode, 40125);
    assert.doesNotMatch(error.message, /not-the-secret-7f3a/);
  });

  it('userinfo about another openid than the token\'s: UPSTREAM_BAD_RESPONSE', async () => {
    wx.setUser(ALICE);
    const lying: typeof fetch = async (input, init) => {
      const response = await boundedFetch(input, init);
      if (!String(input).includes('/sns/userinfo')) return response;
      return Response.json({ ...(await response.json()), openid: 'o-someone-else' });
    };
    const error = await upstreamError(wechat.finish(config, new URLSearchParams({ code: wx.issueCode() }), { authorizeUrl: '', secrets: {}, callbackUrl: CALLBACK }, lying));
    assert.equal(error.code, 'UPSTREAM_BAD_RESPONSE');
  });

  it('an API base with a path is kept; an answer that is not JSON is UPSTREAM_BAD_RESPONSE', async () => {
    const proxied = { ...config, apiUrl: `${wx.url}/proxy` };
    const error = await upstreamError(wechat.finish(proxied, new URLSearchParams({ code: wx.issueCode() }), { authorizeUrl: '', secrets: {}, callbackUrl: CALLBACK }, boundedFetch));
    assert.equal(error.code, 'UPSTREAM_BAD_RESPONSE');
    assert.equal(wx.calls('/proxy/sns/oauth2/access_token'), 1);
  });

  it('WeChat down: no answer (the injected fetch times out), HTTP 502, or nothing listening — each is UPSTREAM_UNAVAILABLE', async () => {
    const flow = { authorizeUrl: '', secrets: {}, callbackUrl: CALLBACK };
    for (const outage of ['hang', 'http-502'] as const) {
      wx.setOutage(outage);
      try {
        const error = await upstreamError(wechat.finish(config, new URLSearchParams({ code: wx.issueCode() }), flow, boundedFetch));
        assert.equal(error.code, 'UPSTREAM_UNAVAILABLE', outage);
      } finally {
        wx.setOutage('none');
      }
    }
    const nowhere = { ...config, apiUrl: `http://127.0.0.1:${await freePort()}` };
    const error = await upstreamError(wechat.finish(nowhere, new URLSearchParams({ code: 'c' }), flow, boundedFetch));
    assert.equal(error.code, 'UPSTREAM_UNAVAILABLE');
  });
});

describe('WeCom', () => {
  let wc: WeComStandIn;
  let clock = Date.now();
  const now = () => clock;
  let config: ProviderSettings;
  const MEMBER = { userid: 'zhangsan', name: '张三', avatar: 'https://wework.qpic.cn/zhangsan/0' };
  before(async () => {
    wc = await startWeComStandIn({ user: MEMBER });
    config = settings('wecom', { appId: wc.corpId, appSecret: wc.corpSecret, authorizeUrl: wc.url, apiUrl: wc.url, extra: { agent_id: wc.agentId } });
  });
  after(() => wc.close());

  async function signIn(provider: UpstreamProvider, state = 'st') {
    const { flow, callback } = await throughAuthorizePage(provider, config, state);
    return provider.finish(config, callback, flow, boundedFetch);
  }

  it('start: the web login page with exactly login_type=CorpApp, appid (corp id), agentid, redirect_uri, state', async () => {
    const provider = createWeComProvider();
    const url = new URL((await provider.start(settings('wecom', { appId: 'wwcorp', extra: { agent_id: '1000005' } }), 'st-w', CALLBACK)).authorizeUrl);
    assert.equal(`${url.origin}${url.pathname}`, 'https://login.work.weixin.qq.com/wwlogin/sso/login');
    assert.deepEqual([...url.searchParams], [
      ['login_type', 'CorpApp'],
      ['appid', 'wwcorp'],
      ['agentid', '1000005'],
      ['redirect_uri', CALLBACK],
      ['state', 'st-w'],
    ]);
    const byExtra = new URL((await provider.start(settings('wecom', { appId: 'ignored', extra: { corp_id: 'wwother', agent_id: '1' } }), 's', CALLBACK)).authorizeUrl);
    assert.equal(byExtra.searchParams.get('appid'), 'wwother', 'extra.corp_id wins over the app id');
    await assert.rejects(provider.start(settings('wecom'), 's', CALLBACK), /agent_id/);
  });

  it('a member signs in: subject corp:userid, name and avatar from user/get', async () => {
    wc.setUser(MEMBER);
    const identity = await signIn(createWeComProvider({ now }));
    assert.deepEqual(identity, {
      provider: 'wecom',
      subject: `${wc.corpId}:zhangsan`,
      displayName: '张三',
      avatarUrl: 'https://wework.qpic.cn/zhangsan/0',
      details: { corp_id: wc.corpId, userid: 'zhangsan' },
    });
  });

  it('someone outside the corp (WeCom names them only by openid) is refused: UPSTREAM_DENIED, not a member', async () => {
    wc.setUser({ openid: 'o-outsider' });
    try {
      const error = await upstreamError(signIn(createWeComProvider({ now })));
      assert.equal(error.code, 'UPSTREAM_DENIED');
      assert.match(error.message, /not a member of this organization/);
    } finally {
      wc.setUser(MEMBER);
    }
  });

  it('the app token is fetched once and shared (also by concurrent sign-ins) until shortly before it expires', async () => {
    const provider = createWeComProvider({ now });
    const start = wc.calls('/cgi-bin/gettoken');
    await Promise.all([signIn(provider, 'a'), signIn(provider, 'b')]);
    await signIn(provider, 'c');
    assert.equal(wc.calls('/cgi-bin/gettoken') - start, 1);

    // Inside the safety margin before WeCom's 7200 s: a new token, though the old one would still work.
    clock += 7200_000 - TOKEN_MARGIN_MS + 1000;
    await signIn(provider, 'd');
    assert.equal(wc.calls('/cgi-bin/gettoken') - start, 2);
    await signIn(provider, 'e');
    assert.equal(wc.calls('/cgi-bin/gettoken') - start, 2);
  });

  it('a cached token WeCom invalidated early (40014) is replaced once and the sign-in succeeds', async () => {
    const provider = createWeComProvider({ now });
    await signIn(provider, 'x');
    const start = wc.calls('/cgi-bin/gettoken');
    wc.revokeTokens();
    const identity = await signIn(provider, 'y');
    assert.equal(identity.subject, `${wc.corpId}:zhangsan`);
    assert.equal(wc.calls('/cgi-bin/gettoken') - start, 1);
  });

  it('an app without address-book permission still signs members in, without a name', async () => {
    wc.setContactPermission(false);
    try {
      const identity = await signIn(createWeComProvider({ now }));
      assert.equal(identity.subject, `${wc.corpId}:zhangsan`);
      assert.equal(identity.displayName, null);
    } finally {
      wc.setContactPermission(true);
    }
  });

  it('user/get not answering after getuserinfo proved the member: the sign-in still succeeds, without a name', async () => {
    const provider = createWeComProvider({ now });
    const noUserGet: typeof fetch = (input, init) => (String(input).includes('/cgi-bin/user/get?') ? Promise.reject(new TypeError('fetch failed')) : boundedFetch(input, init));
    const { flow, callback } = await throughAuthorizePage(provider, config, 'u');
    const identity = await provider.finish(config, callback, flow, noUserGet);
    assert.equal(identity.subject, `${wc.corpId}:zhangsan`);
    assert.equal(identity.displayName, null);
  });

  it('a reused or unknown code is UPSTREAM_CODE_INVALID (40029); a declined login UPSTREAM_DENIED', async () => {
    const provider = createWeComProvider({ now });
    const { flow, callback } = await throughAuthorizePage(provider, config, 'r');
    await provider.finish(config, callback, flow, boundedFetch);
    const reused = await upstreamError(provider.finish(config, callback, flow, boundedFetch));
    assert.equal(reused.code, 'UPSTREAM_CODE_INVALID');
    assert.equal(reused.providerCode, 40029);

    wc.setCancelled(true);
    try {
      const back = await throughAuthorizePage(provider, config, 'c');
      const declined = await upstreamError(provider.finish(config, back.callback, back.flow, boundedFetch));
      assert.equal(declined.code, 'UPSTREAM_DENIED');
    } finally {
      wc.setCancelled(false);
    }
  });

  it('a wrong corp secret: UPSTREAM_DENIED with WeCom\'s errcode; WeCom not answering: UPSTREAM_UNAVAILABLE', async () => {
    const provider = createWeComProvider({ now });
    const wrong = await upstreamError(provider.finish({ ...config, appSecret: 'wrong' }, new URLSearchParams({ code: wc.issueCode() }), { authorizeUrl: '', secrets: {}, callbackUrl: CALLBACK }, boundedFetch));
    assert.equal(wrong.code, 'UPSTREAM_DENIED');
    assert.equal(wrong.providerCode, 40001);

    wc.setOutage('hang');
    try {
      const down = await upstreamError(provider.finish(config, new URLSearchParams({ code: 'c' }), { authorizeUrl: '', secrets: {}, callbackUrl: CALLBACK }, boundedFetch));
      assert.equal(down.code, 'UPSTREAM_UNAVAILABLE');
    } finally {
      wc.setOutage('none');
    }
  });
});
