// Which adapter speaks to which provider, each calling out through one fetch that gives up after the
// configured time: a provider that hangs costs a sign-in a clear "try later", never a worker's socket
// for minutes.
import { dingtalk } from './dingtalk.js';
import { feishu } from './feishu.js';
import { createOidcProvider } from './oidc.js';
import type { ProviderName, UpstreamProvider } from './types.js';
import { wechat, wechatMp } from './wechat.js';
import { createWeComProvider } from './wecom.js';

export interface Upstreams {
  adapter(name: ProviderName): UpstreamProvider;
  /** The fetch every call to a provider goes through. */
  readonly fetch: typeof globalThis.fetch;
}

/** A fetch that aborts after `timeoutMs`, as well as on the caller's own signal. */
export function timedFetch(timeoutMs: number, base: typeof globalThis.fetch = globalThis.fetch): typeof globalThis.fetch {
  return (input, init) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    return base(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
  };
}

export function createUpstreams(options: { timeoutMs: number }): Upstreams {
  const fetch = timedFetch(options.timeoutMs);
  const adapters: Record<ProviderName, UpstreamProvider> = {
    wechat,
    wechat_mp: wechatMp,
    // Its access token is cached per process: one per corp and app until shortly before it lapses.
    wecom: createWeComProvider(),
    dingtalk,
    feishu,
    oidc: createOidcProvider({ fetch, timeoutSeconds: Math.ceil(options.timeoutMs / 1000) }),
  };
  return { adapter: (name) => adapters[name], fetch };
}
