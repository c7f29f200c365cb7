// The hot path's memory: session token → the few facts forward auth answers with. Every request of
// every protected application asks; a repeat within SESSION_FACTS_TTL_MS is answered from here without
// touching the database (and nothing on this path hashes a password). The price is a bounded
// staleness: a session revoked or signed out, or an account disabled or changed, keeps passing on a
// worker that has it in memory for at most SESSION_FACTS_TTL_MS. An entry never outlives the session
// itself: it is dropped at the session's own expiry (idle or absolute), whichever comes first.
import { createHash } from 'node:crypto';
import type { Role } from '../db/schema.js';
import { identityHeaders, type IdentityHeaders } from './identity-headers.js';

/** The staleness bound (see above). */
export const SESSION_FACTS_TTL_MS = 5_000;
/** Sessions remembered per process; past this the least recently used is forgotten. */
export const SESSION_FACTS_MAX_ENTRIES = 10_000;

export interface SessionFacts {
  userId: number;
  organizationId: number;
  role: Role;
  /** Made once per entry, not per request. */
  headers: IdentityHeaders;
}

/** What the session behind a token is, read from its owners (sessions and accounts). */
export interface ResolvedSession {
  user: { id: number; subject: string; name: string; organization_id: number; role: Role; status: string };
  session: { expires_at: number; absolute_expires_at: number };
}

export interface SessionFactsOptions {
  /** The live session a token names (renewed as every use renews it); null for none. */
  resolve: (token: string) => Promise<ResolvedSession | null>;
  ttlMs?: number;
  maxEntries?: number;
  onLookup?: (outcome: 'hit' | 'load' | 'shared') => void;
  now?: () => number;
}

interface Entry {
  facts: SessionFacts;
  /** The sooner of "loaded + TTL" and the session's own expiry. */
  until: number;
}

export class SessionFactsCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<SessionFacts | null>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly options: SessionFactsOptions) {
    this.ttlMs = options.ttlMs ?? SESSION_FACTS_TTL_MS;
    this.maxEntries = options.maxEntries ?? SESSION_FACTS_MAX_ENTRIES;
    this.now = options.now ?? Date.now;
  }

  /** The facts of the live session of an active account that `token` names; null for anything else. */
  async get(token: string): Promise<SessionFacts | null> {
    // Keyed by the token's SHA-256, not the token: a heap dump of a worker yields no usable session.
    const key = createHash('sha256').update(token).digest('base64url');
    const entry = this.entries.get(key);
    if (entry) {
      if (entry.until > this.now()) {
        // Most recently used goes last: Maps iterate in insertion order, so the first is the one to forget.
        this.entries.delete(key);
        this.entries.set(key, entry);
        this.options.onLookup?.('hit');
        return entry.facts;
      }
      this.entries.delete(key);
    }
    const pending = this.inflight.get(key);
    if (pending) {
      this.options.onLookup?.('shared');
      return pending;
    }
    this.options.onLookup?.('load');
    const load = this.load(key, token).finally(() => this.inflight.delete(key));
    this.inflight.set(key, load);
    return load;
  }

  get size(): number {
    return this.entries.size;
  }

  private async load(key: string, token: string): Promise<SessionFacts | null> {
    const loadedAt = this.now();
    const resolved = await this.options.resolve(token);
    // Neither an unknown token nor a disabled account is remembered: a token becomes valid only by a
    // sign-in that makes a new one, and an account enabled again is let in at once.
    if (!resolved || resolved.user.status !== 'active') return null;
    const { user, session } = resolved;
    const facts: SessionFacts = {
      userId: user.id,
      organizationId: user.organization_id,
      role: user.role,
      headers: identityHeaders({ subject: user.subject, name: user.name, organizationId: user.organization_id, role: user.role }),
    };
    // Counted from before the read: what the database said is at most TTL old when the entry expires.
    const until = Math.min(loadedAt + this.ttlMs, session.expires_at, session.absolute_expires_at);
    if (until > this.now()) {
      if (this.entries.size >= this.maxEntries) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
      this.entries.set(key, { facts, until });
    }
    return facts;
  }
}
