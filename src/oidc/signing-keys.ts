// The provider's signing keys: created on first start, sealed with SECRET_KEY in the database, so that
// every worker and server signs with the same key and publishes the same JWKS. Rotation publishes
// the new key first and signs with it only from its activation time, so that relying parties that
// cached the JWKS find it; the old key stays published for a grace period after, so that tokens it
// signed still verify.
import { generateKeyPairSync, randomBytes, type JsonWebKey } from 'node:crypto';
import type { Database } from '../db/database.js';
import type { OidcSigningKeyRow } from '../db/schema.js';
import type { AuditLog } from '../audit/service.js';
import type { Principal } from '../principal.js';
import { seal, unseal } from '../security/seal.js';

export interface SigningJwk extends JsonWebKey {
  kid: string;
  alg: string;
  use: 'sig';
}

/** The keys in force at one moment: the one to sign with first (oidc-provider signs with the first that fits), then the others still published. */
export interface KeySet {
  keys: SigningJwk[];
  /** Changes whenever the set or its order changes: a process rebuilds its provider then. */
  version: string;
  /** When the set changes by itself (an activation or retirement), ms; undefined: not by itself. */
  nextChangeAt: number | undefined;
}

export interface KeySummary {
  kid: string;
  alg: string;
  createdAt: number;
  activatesAt: number;
  supersededAt: number | null;
  retiresAt: number | null;
  state: 'signing' | 'published' | 'retired';
}

export interface RotateOptions {
  /** Published at once, signing from this many seconds later (every process and every cached JWKS must have seen it by then). */
  activateInSeconds: number;
  /** The old key stays published this long after the new one takes over. */
  retireAfterSeconds: number;
}

const ALG = 'RS256';

/**
 * Defaults of a rotation. Activation waits for every process to read the new key (within
 * OIDC_KEY_REFRESH_SECONDS, 10) and for apps that fetched the old key set just before to fetch again
 * (libraries such as openid-client do so for an unknown key only once their copy is 60 s old): 120 s
 * covers both. The old key outlives every token it signed (an ID token lives an hour).
 */
export const DEFAULT_ROTATION: RotateOptions = { activateInSeconds: 120, retireAfterSeconds: 86_400 };

function newKeyRow(secret: string, now: number, activatesAt: number): OidcSigningKeyRow {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(12).toString('base64url');
  const jwk: SigningJwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: ALG, use: 'sig' };
  return { kid, alg: ALG, sealed_jwk: seal(secret, 'oidc signing key', JSON.stringify(jwk)), created_at: now, activates_at: activatesAt, superseded_at: null, retires_at: null };
}

/** The key that signs at `now`: the newest activated one that nothing has superseded yet. */
function signingKeyAt(rows: readonly OidcSigningKeyRow[], now: number): OidcSigningKeyRow | undefined {
  const active = rows.filter((row) => row.activates_at <= now && (row.superseded_at === null || row.superseded_at > now));
  active.sort((a, b) => b.activates_at - a.activates_at || a.kid.localeCompare(b.kid));
  return active[0] ?? [...rows].sort((a, b) => a.activates_at - b.activates_at)[0];
}

function stateAt(row: OidcSigningKeyRow, signing: OidcSigningKeyRow | undefined, now: number): KeySummary['state'] {
  if (row.retires_at !== null && row.retires_at <= now) return 'retired';
  return row.kid === signing?.kid ? 'signing' : 'published';
}

export class SigningKeys {
  private readonly opened = new Map<string, SigningJwk>();

  constructor(
    private readonly database: Database,
    private readonly secret: string,
    private readonly audit: AuditLog,
    private readonly now: () => number = Date.now,
  ) {}

  private async rows(): Promise<OidcSigningKeyRow[]> {
    return this.database.db.selectFrom('oidc_signing_keys').selectAll().execute();
  }

  private open(row: OidcSigningKeyRow): SigningJwk {
    let jwk = this.opened.get(row.kid);
    if (!jwk) {
      jwk = JSON.parse(unseal(this.secret, 'oidc signing key', row.sealed_jwk)) as SigningJwk;
      this.opened.set(row.kid, jwk);
    }
    return jwk;
  }

  /** Creates the first key when there is none (several servers starting at once may each add one: any of them is then used, the same everywhere). */
  async ensure(): Promise<void> {
    const live = (await this.rows()).filter((row) => row.retires_at === null || row.retires_at > this.now());
    if (live.length > 0) return;
    const now = this.now();
    const row = newKeyRow(this.secret, now, now);
    await this.database.write((trx) => trx.insertInto('oidc_signing_keys').values(row).execute());
  }

  async current(): Promise<KeySet> {
    const now = this.now();
    const live = (await this.rows()).filter((row) => row.retires_at === null || row.retires_at > now);
    const signing = signingKeyAt(live, now);
    const ordered = signing ? [signing, ...live.filter((row) => row.kid !== signing.kid).sort((a, b) => a.kid.localeCompare(b.kid))] : [];
    const upcoming = live.flatMap((row) => [row.activates_at, row.superseded_at, row.retires_at]).filter((at): at is number => at !== null && at > now);
    return {
      keys: ordered.map((row) => this.open(row)),
      version: ordered.map((row) => row.kid).join(','),
      nextChangeAt: upcoming.length ? Math.min(...upcoming) : undefined,
    };
  }

  async list(): Promise<KeySummary[]> {
    const now = this.now();
    const rows = await this.rows();
    const signing = signingKeyAt(rows.filter((row) => row.retires_at === null || row.retires_at > now), now);
    return rows
      .sort((a, b) => a.created_at - b.created_at)
      .map((row) => ({ kid: row.kid, alg: row.alg, createdAt: row.created_at, activatesAt: row.activates_at, supersededAt: row.superseded_at, retiresAt: row.retires_at, state: stateAt(row, signing, now) }));
  }

  /** Adds a key that signs from `activateInSeconds` on; the keys signing until then retire `retireAfterSeconds` after it. Audited; returns the new key's summary. */
  async rotate(by: Principal, options: RotateOptions): Promise<KeySummary> {
    const now = this.now();
    const activatesAt = now + options.activateInSeconds * 1000;
    const row = newKeyRow(this.secret, now, activatesAt);
    await this.database.write(async (trx) => {
      await trx
        .updateTable('oidc_signing_keys')
        .set({ superseded_at: activatesAt, retires_at: activatesAt + options.retireAfterSeconds * 1000 })
        .where('superseded_at', 'is', null)
        .where('activates_at', '<=', activatesAt)
        .execute();
      await trx.insertInto('oidc_signing_keys').values(row).execute();
    });
    await this.audit.recordBy(by, { event: 'oidc.keys_rotated', target: `key:${row.kid}`, detail: { activates_at: new Date(activatesAt).toISOString(), retire_after_seconds: options.retireAfterSeconds } });
    return { kid: row.kid, alg: row.alg, createdAt: now, activatesAt, supersededAt: null, retiresAt: null, state: activatesAt <= now ? 'signing' : 'published' };
  }

  /** Deletes keys whose grace period is over. */
  async sweepRetired(): Promise<number> {
    const result = await this.database.retrying(() => this.database.db.deleteFrom('oidc_signing_keys').where('retires_at', '<=', this.now()).executeTakeFirst());
    return Number(result.numDeletedRows);
  }
}
