// Each process's provider, rebuilt when the signing keys change (a rotation made by `gatehouse keys
// rotate` anywhere, or a key's activation or retirement time passing), so that every worker and
// server follows a rotation without a restart. Everything else the provider holds lives in the
// shared stores, so a rebuilt provider carries on every sign-in in progress.
import type { Provider } from 'oidc-provider';
import type { KeySet, SigningJwk, SigningKeys } from './signing-keys.js';

export interface LiveProviderOptions {
  keys: SigningKeys;
  build: (signingKeys: readonly SigningJwk[]) => Provider;
  refreshMs: number;
  onError: (error: unknown) => void;
  now?: () => number;
}

export class LiveProvider {
  private provider!: Provider;
  private keySet!: KeySet;
  private timer: ReturnType<typeof setInterval> | undefined;
  private refreshing: Promise<void> | undefined;
  private readonly now: () => number;

  private constructor(private readonly options: LiveProviderOptions) {
    this.now = options.now ?? Date.now;
  }

  static async start(options: LiveProviderOptions): Promise<LiveProvider> {
    const live = new LiveProvider(options);
    await options.keys.ensure();
    live.install(await options.keys.current());
    live.timer = setInterval(() => void live.refresh().catch(options.onError), options.refreshMs);
    live.timer.unref();
    return live;
  }

  /** The provider for this request. */
  get current(): Provider {
    if (this.keySet.nextChangeAt !== undefined && this.keySet.nextChangeAt <= this.now()) void this.refresh().catch(this.options.onError);
    return this.provider;
  }

  /** Reads the keys again; rebuilds the provider when they differ. One reading at a time. */
  refresh(): Promise<void> {
    this.refreshing ??= this.options.keys
      .current()
      .then((keySet) => {
        if (keySet.version !== this.keySet.version) this.install(keySet);
        else this.keySet = keySet;
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  private install(keySet: KeySet): void {
    this.provider = this.options.build(keySet.keys);
    this.keySet = keySet;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
