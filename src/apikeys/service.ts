// API keys for programs: created by an admin and shown once, stored as a SHA-256 of the whole key
// (256 random bits need no slow hash), recognized by a visible prefix, limited to scopes, revocable.
// Format: gth_<8-character prefix>_<43-character secret>.
//
// A key expires (API_KEY_DEFAULT_TTL_DAYS unless its creator chooses) and belongs to the
// administrator who made it: when they are demoted, disabled or deleted, their keys are revoked
// (admin/users.ts), so that a departed administrator leaves no working credential behind. A key made
// by another key belongs to the person behind that one.
import type { AuditLog } from '../audit/service.js';
import type { Database } from '../db/database.js';
import type { ApiKeyRow } from '../db/schema.js';
import { AppError } from '../errors.js';
import type { Principal } from '../principal.js';
import { randomString, randomToken, secretsEqual, sha256Hex } from '../security/tokens.js';
import { createApiKeyRepo } from './repo.js';

export const API_KEY_SCOPES = ['tasks:write', 'tasks:read', 'admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

const PREFIX_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
const KEY_FORMAT = /^gth_([a-z2-9]{8})_([A-Za-z0-9_-]{43})$/;
const MAX_TTL_DAYS = 3650;
/** last_used_at is written at most this often per key, not on every request. */
const TOUCH_INTERVAL_MS = 60_000;

export interface ApiKeyView {
  id: number;
  prefix: string;
  name: string;
  scopes: ApiKeyScope[];
  created_by: number | null;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  expires_at: number | null;
}

/** Why a creator's keys were revoked, in the audit log. */
export type CreatorChange = 'creator_demoted' | 'creator_disabled' | 'creator_deleted';

export function toView(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    prefix: row.prefix,
    name: row.name,
    scopes: row.scopes.split(' ').filter(Boolean) as ApiKeyScope[],
    created_by: row.created_by,
    created_at: row.created_at,
    last_used_at: row.last_used_at,
    revoked_at: row.revoked_at,
    expires_at: row.expires_at,
  };
}

/** A key as the CLI's --json and the admin API show it (times as ISO strings). */
export function apiKeyJson(key: ApiKeyView) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return { ...key, created_at: iso(key.created_at), last_used_at: iso(key.last_used_at), revoked_at: iso(key.revoked_at), expires_at: iso(key.expires_at) };
}

export function parseScopes(input: readonly string[]): ApiKeyScope[] {
  const scopes = [...new Set(input.map((s) => s.trim()).filter(Boolean))];
  const unknown = scopes.find((s) => !(API_KEY_SCOPES as readonly string[]).includes(s));
  if (unknown !== undefined || scopes.length === 0) {
    throw new AppError('VALIDATION_FAILED', { message: `scopes must be one or more of ${API_KEY_SCOPES.join(', ')}${unknown ? `; "${unknown}" is not one` : ''}` });
  }
  return scopes as ApiKeyScope[];
}

export class ApiKeyService {
  private readonly repo;
  private readonly now: () => number;

  private readonly audit: AuditLog;
  private readonly defaultTtlDays: number;

  constructor(private readonly database: Database, options: { audit: AuditLog; defaultTtlDays: number; now?: () => number }) {
    this.repo = createApiKeyRepo(database.db);
    this.audit = options.audit;
    this.defaultTtlDays = options.defaultTtlDays;
    this.now = options.now ?? Date.now;
  }

  /** An administrator (or the operator) creates a key; the returned `key` is the only time anyone sees it. */
  async create(by: Principal, input: { name: string; scopes: readonly string[]; expiresInDays?: number | undefined }): Promise<{ key: string; apiKey: ApiKeyView }> {
    const name = input.name.trim();
    if (name.length < 1 || name.length > 100) throw new AppError('VALIDATION_FAILED', { message: 'name must be 1 to 100 characters' });
    const scopes = parseScopes(input.scopes);
    const days = input.expiresInDays ?? this.defaultTtlDays;
    if (!Number.isInteger(days) || days < 1 || days > MAX_TTL_DAYS) throw new AppError('VALIDATION_FAILED', { message: `expires_in_days must be a whole number from 1 to ${MAX_TTL_DAYS}` });
    const createdBy = await this.creatorBehind(by);
    const prefix = randomString(PREFIX_ALPHABET, 8);
    const key = `gth_${prefix}_${randomToken(32)}`;
    const now = this.now();
    const row = await this.database.write((trx) =>
      createApiKeyRepo(trx).insert({ prefix, key_hash: sha256Hex(key), name, scopes: scopes.join(' '), created_by: createdBy, created_at: now, last_used_at: null, revoked_at: null, expires_at: now + days * 86_400_000 }),
    );
    const apiKey = toView(row);
    await this.audit.recordBy(by, { event: 'apikey.created', target: `apikey:${apiKey.prefix}`, detail: { name: apiKey.name, scopes: apiKey.scopes, expires_in_days: days } });
    return { key, apiKey };
  }

  /**
   * Revokes every live key that `userId` made, because they are no longer an active administrator;
   * each revocation is audited with the reason. Returns how many.
   */
  async revokeCreatedBy(by: Principal, userId: number, reason: CreatorChange): Promise<number> {
    const rows = await this.database.write((trx) => createApiKeyRepo(trx).revokeCreatedBy(userId, this.now()));
    for (const row of rows) await this.audit.recordBy(by, { event: 'apikey.revoked', target: `apikey:${row.prefix}`, detail: { reason, creator: `user:${userId}` } });
    return rows.length;
  }

  /** The person a new key belongs to: the signed-in administrator, or the one behind the key that asks; null for the operator. */
  private async creatorBehind(by: Principal): Promise<number | null> {
    if (by.kind === 'user') return by.userId;
    if (by.kind === 'apikey') return (await this.repo.findByPrefix(by.prefix))?.created_by ?? null;
    return null;
  }

  async list(): Promise<ApiKeyView[]> {
    return (await this.repo.list()).map(toView);
  }

  /** Revokes a live key, named by id or by its visible prefix; null when there is no such live key. */
  async revoke(by: Principal, key: { id: number } | { prefix: string }): Promise<ApiKeyView | null> {
    const id = 'id' in key ? key.id : (await this.repo.findByPrefix(key.prefix))?.id;
    const row = id === undefined ? undefined : await this.database.write((trx) => createApiKeyRepo(trx).revoke(id, this.now()));
    if (!row) return null;
    await this.audit.recordBy(by, { event: 'apikey.revoked', target: `apikey:${row.prefix}` });
    return toView(row);
  }

  /** The live key that `presented` is, or null (unknown, wrong secret, revoked, expired). */
  async authenticate(presented: string): Promise<ApiKeyView | null> {
    const match = KEY_FORMAT.exec(presented);
    if (!match) return null;
    const row = await this.repo.findByPrefix(match[1]!);
    if (!row || !secretsEqual(row.key_hash, sha256Hex(presented)) || row.revoked_at !== null) return null;
    const at = this.now();
    if (row.expires_at !== null && row.expires_at <= at) return null;
    if (row.last_used_at === null || at - row.last_used_at > TOUCH_INTERVAL_MS) {
      await this.database.retrying(() => this.repo.touch(row.id, at));
      row.last_used_at = at;
    }
    return toView(row);
  }
}
