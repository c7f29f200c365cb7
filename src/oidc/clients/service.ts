// The registry of OpenID Connect clients (the school's other systems that sign people in through
// Gatehouse): registered, changed, disabled and deleted by platform administrators from the console,
// the API or the command line, each change audited; read by the provider through ClientLookup.
//
// A client id is `gtc_` and 24 characters of lowercase base32 (120 random bits): recognizable in a
// configuration file, and one "word" that a double-click selects whole (base64url's "-" would cut
// it). A confidential client's secret is 32 random bytes, base64url, shown once when it is made or
// rotated and stored only as its SHA-256 (256 random bits need no slow hash, as for API keys); a
// public client (a single-page or native app, which cannot keep a secret) has none and must use PKCE.
import type { AuditEntry, AuditLog } from '../../audit/service.js';
import type { Database } from '../../db/database.js';
import { AppError } from '../../errors.js';
import type { OrgService } from '../../orgs/service.js';
import { actorName, requirePlatform, type Principal } from '../../principal.js';
import { randomString, randomToken, sha256Hex } from '../../security/tokens.js';
import { createClientRepo, type OidcClientChanges } from './repo.js';
import { allowedRoleList, backchannelLogoutUri, clientName, grantTypesFor, organizationIdList, redirectUriList, requireRedirectWhereNeeded } from './rules.js';
import type { ClientGrantRevoker, ClientLookup, RegisteredClient } from './types.js';
import { toDetails, toRegistered, type ClientDetails } from './views.js';

const CLIENT_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const CLIENT_ID_FORMAT = /^gtc_[a-z2-7]{24}$/;

export interface NewClient {
  name: string;
  redirectUris: readonly string[];
  postLogoutRedirectUris?: readonly string[] | undefined;
  backchannelLogoutUri?: string | null | undefined;
  /** A public client has no secret (PKCE only) and never uses client credentials. */
  public?: boolean | undefined;
  /** Skips the consent page: the school's own system. */
  firstParty?: boolean | undefined;
  /** Default: every grant its kind may use (see grantTypesFor). */
  grantTypes?: readonly string[] | undefined;
  /** null or absent: members of every organization may sign in. */
  allowedOrganizationIds?: readonly number[] | null | undefined;
  /** null or absent: every role may sign in. */
  allowedRoles?: readonly string[] | null | undefined;
}

/** What an administrator may change; whether a client is public, and its grant types, stay as registered. */
export interface ClientChanges {
  name?: string | undefined;
  redirectUris?: readonly string[] | undefined;
  postLogoutRedirectUris?: readonly string[] | undefined;
  /** null removes it. */
  backchannelLogoutUri?: string | null | undefined;
  firstParty?: boolean | undefined;
  /** null: every organization. */
  allowedOrganizationIds?: readonly number[] | null | undefined;
  /** null: every role. */
  allowedRoles?: readonly string[] | null | undefined;
}

/** A client and, when one was just made, its secret: the only time anyone sees it. */
export interface ClientWithSecret {
  client: ClientDetails;
  /** null for a public client. */
  secret: string | null;
}

export interface ClientRegistryDeps {
  database: Database;
  audit: AuditLog;
  /** Allowed organizations must exist. */
  orgs: Pick<OrgService, 'findOrganization'>;
  /** The provider's: a deleted or disabled client's grants and refresh tokens stop at once. */
  grants?: ClientGrantRevoker | undefined;
  now?: () => number;
}

const notFound = (clientId: string) => new AppError('CLIENT_NOT_FOUND', { message: `No app with client id ${JSON.stringify(clientId.slice(0, 64))}.` });

/** Whether someone that `before` allowed (null: everyone) is not allowed by `after`. */
function narrowed<T>(before: readonly T[] | null, after: readonly T[] | null): boolean {
  if (after === null) return false;
  if (before === null) return true;
  return before.some((value) => !after.includes(value));
}

/** Equal values, or lists of equal values in the same order. */
function same(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
}

export class ClientRegistry implements ClientLookup {
  private readonly repo;
  private readonly now: () => number;

  constructor(private readonly deps: ClientRegistryDeps) {
    this.repo = createClientRepo(deps.database.db);
    this.now = deps.now ?? Date.now;
  }

  /** ClientLookup: the client, enabled or not; undefined for an id that names none (without a query when it cannot). */
  async find(clientId: string): Promise<RegisteredClient | undefined> {
    if (!CLIENT_ID_FORMAT.test(clientId)) return undefined;
    const row = await this.repo.find(clientId);
    return row ? toRegistered(toDetails(row)) : undefined;
  }

  async list(): Promise<ClientDetails[]> {
    return (await this.repo.list()).map(toDetails);
  }

  /** The client; CLIENT_NOT_FOUND. */
  async show(clientId: string): Promise<ClientDetails> {
    const row = CLIENT_ID_FORMAT.test(clientId) ? await this.repo.find(clientId) : undefined;
    if (!row) throw notFound(clientId);
    return toDetails(row);
  }

  async create(by: Principal, input: NewClient): Promise<ClientWithSecret> {
    requirePlatform(by, 'register apps');
    const isPublic = input.public === true;
    const name = clientName(input.name);
    const grantTypes = grantTypesFor(isPublic, input.grantTypes);
    const redirectUris = redirectUriList(input.redirectUris, 'redirect_uris');
    requireRedirectWhereNeeded(grantTypes, redirectUris);
    const postLogoutRedirectUris = redirectUriList(input.postLogoutRedirectUris ?? [], 'post_logout_redirect_uris');
    const backchannel = backchannelLogoutUri(input.backchannelLogoutUri ?? null);
    const roles = allowedRoleList(input.allowedRoles ?? null);
    const organizations = await this.existingOrganizations(input.allowedOrganizationIds ?? null);
    const secret = isPublic ? null : randomToken(32);
    const now = this.now();
    const row = await this.deps.database.write((trx) =>
      createClientRepo(trx).insert({
        client_id: `gtc_${randomString(CLIENT_ID_ALPHABET, 24)}`,
        name,
        secret_hash: secret === null ? null : sha256Hex(secret),
        redirect_uris: JSON.stringify(redirectUris),
        post_logout_redirect_uris: JSON.stringify(postLogoutRedirectUris),
        backchannel_logout_uri: backchannel,
        first_party: input.firstParty === true ? 1 : 0,
        grant_types: JSON.stringify(grantTypes),
        allowed_organization_ids: organizations === null ? null : JSON.stringify(organizations),
        allowed_roles: roles === null ? null : JSON.stringify(roles),
        created_by: actorName(by),
        created_at: now,
        updated_at: now,
        secret_rotated_at: null,
        disabled_at: null,
      }),
    );
    const client = toDetails(row);
    await this.record(by, 'oidc_client.created', client.clientId, {
      name: client.name,
      type: isPublic ? 'public' : 'confidential',
      first_party: client.firstParty,
      grant_types: client.grantTypes,
      redirect_uris: client.redirectUris,
      post_logout_redirect_uris: client.postLogoutRedirectUris,
      backchannel_logout_uri: client.backchannelLogoutUri,
      allowed_organization_ids: client.allowedOrganizationIds,
      allowed_roles: client.allowedRoles,
    });
    return { client, secret };
  }

  /**
   * Changes what the client may do; CLIENT_NOT_FOUND. When the change shuts out organizations or
   * roles that were allowed, the client's grants are revoked, so that nobody keeps a session in the
   * app that they could no longer start (those still allowed sign in again without typing anything:
   * their Gatehouse session is the single sign-on).
   */
  async update(by: Principal, clientId: string, changes: ClientChanges): Promise<ClientDetails> {
    requirePlatform(by, 'change apps');
    const current = await this.show(clientId);
    const name = changes.name === undefined ? current.name : clientName(changes.name);
    const redirectUris = changes.redirectUris === undefined ? current.redirectUris : redirectUriList(changes.redirectUris, 'redirect_uris');
    requireRedirectWhereNeeded(current.grantTypes, redirectUris);
    const postLogout = changes.postLogoutRedirectUris === undefined ? current.postLogoutRedirectUris : redirectUriList(changes.postLogoutRedirectUris, 'post_logout_redirect_uris');
    const backchannel = changes.backchannelLogoutUri === undefined ? current.backchannelLogoutUri : backchannelLogoutUri(changes.backchannelLogoutUri);
    const firstParty = changes.firstParty ?? current.firstParty;
    const roles = changes.allowedRoles === undefined ? current.allowedRoles : allowedRoleList(changes.allowedRoles);
    const organizations = changes.allowedOrganizationIds === undefined ? current.allowedOrganizationIds : await this.existingOrganizations(changes.allowedOrganizationIds);

    // Each column that changes: its stored value, and what the audit log says it was and became.
    const candidates: Array<[keyof OidcClientChanges, unknown, unknown, OidcClientChanges[keyof OidcClientChanges]]> = [
      ['name', current.name, name, name],
      ['redirect_uris', current.redirectUris, redirectUris, JSON.stringify(redirectUris)],
      ['post_logout_redirect_uris', current.postLogoutRedirectUris, postLogout, JSON.stringify(postLogout)],
      ['backchannel_logout_uri', current.backchannelLogoutUri, backchannel, backchannel],
      ['first_party', current.firstParty, firstParty, firstParty ? 1 : 0],
      ['allowed_organization_ids', current.allowedOrganizationIds, organizations, organizations === null ? null : JSON.stringify(organizations)],
      ['allowed_roles', current.allowedRoles, roles, roles === null ? null : JSON.stringify(roles)],
    ];
    const set: Record<string, unknown> = {};
    const detail: Record<string, { from: unknown; to: unknown }> = {};
    for (const [column, from, to, stored] of candidates) {
      if (same(from, to)) continue;
      set[column] = stored;
      detail[column] = { from, to };
    }
    if (Object.keys(set).length === 0) return current;

    const row = await this.deps.database.write((trx) => createClientRepo(trx).update(clientId, { ...(set as OidcClientChanges), updated_at: this.now() }));
    if (!row) throw notFound(clientId);
    const shutOut = narrowed(current.allowedOrganizationIds, organizations) || narrowed(current.allowedRoles, roles);
    await this.record(by, 'oidc_client.updated', clientId, { ...detail, ...(shutOut && this.deps.grants ? { grants_revoked: true } : {}) });
    if (shutOut) await this.deps.grants?.revokeClient(clientId);
    return toDetails(row);
  }

  /**
   * A new secret in place of the old one, which stops working at once; CLIENT_NOT_FOUND,
   * CLIENT_HAS_NO_SECRET for a public client. The client's grants are kept: the secret authenticates
   * the app, not its users, and every use of a refresh token or a code needs the new secret, so a
   * leaked old one is worth nothing; revoking would sign every user out of the app for a routine
   * rotation. (Disabling the client, or deleting it, is what stops its tokens.)
   */
  async rotateSecret(by: Principal, clientId: string): Promise<ClientWithSecret> {
    requirePlatform(by, 'rotate app secrets');
    const current = await this.show(clientId);
    if (current.secretHash === null) throw new AppError('CLIENT_HAS_NO_SECRET');
    const secret = randomToken(32);
    const now = this.now();
    const row = await this.deps.database.write((trx) => createClientRepo(trx).update(clientId, { secret_hash: sha256Hex(secret), secret_rotated_at: now, updated_at: now }));
    if (!row) throw notFound(clientId);
    await this.record(by, 'oidc_client.secret_rotated', clientId);
    return { client: toDetails(row), secret };
  }

  /**
   * Refuses the client everywhere (the provider treats it as unknown) and revokes its grants and
   * refresh tokens; CLIENT_NOT_FOUND. Disabling a disabled client revokes again, keeping the first
   * time it was disabled.
   */
  async disable(by: Principal, clientId: string): Promise<ClientDetails> {
    requirePlatform(by, 'disable apps');
    const row = await this.markDisabled(await this.show(clientId));
    await this.record(by, 'oidc_client.disabled', clientId);
    await this.deps.grants?.revokeClient(clientId);
    return toDetails(row);
  }

  /** Lets the client sign people in again (their earlier grants stay revoked); CLIENT_NOT_FOUND. */
  async enable(by: Principal, clientId: string): Promise<ClientDetails> {
    requirePlatform(by, 'enable apps');
    await this.show(clientId);
    const row = await this.deps.database.write((trx) => createClientRepo(trx).update(clientId, { disabled_at: null, updated_at: this.now() }));
    if (!row) throw notFound(clientId);
    await this.record(by, 'oidc_client.enabled', clientId);
    return toDetails(row);
  }

  /**
   * Deletes the client and revokes its grants; CLIENT_NOT_FOUND. It is disabled first, so that no new
   * token is issued to it while its grants are revoked; if revoking fails, it stays disabled (and
   * refused) until the deletion is tried again.
   */
  async delete(by: Principal, clientId: string): Promise<ClientDetails> {
    requirePlatform(by, 'delete apps');
    const current = await this.show(clientId);
    if (this.deps.grants) {
      await this.markDisabled(current);
      try {
        await this.deps.grants.revokeClient(clientId);
      } catch (error) {
        // The deletion stops half-way with the client disabled: that change is the administrator's too.
        if (!current.disabled) await this.record(by, 'oidc_client.disabled', clientId, { reason: 'deletion_incomplete' });
        throw error;
      }
    }
    const row = await this.deps.database.write((trx) => createClientRepo(trx).delete(clientId));
    if (!row) throw notFound(clientId);
    await this.record(by, 'oidc_client.deleted', clientId, { name: row.name });
    return current;
  }

  private async markDisabled(current: ClientDetails) {
    const now = this.now();
    const row = await this.deps.database.write((trx) => createClientRepo(trx).update(current.clientId, { disabled_at: current.disabledAt ?? now, updated_at: now }));
    if (!row) throw notFound(current.clientId);
    return row;
  }

  /** The ids as stored, each naming an organization that exists; ORGANIZATION_NOT_FOUND naming the first that does not. */
  private async existingOrganizations(raw: readonly number[] | null): Promise<number[] | null> {
    const ids = organizationIdList(raw);
    for (const id of ids ?? []) {
      if (!(await this.deps.orgs.findOrganization(id))) throw new AppError('ORGANIZATION_NOT_FOUND', { message: `No organization ${id}.`, details: { field: 'body.allowed_organization_ids' } });
    }
    return ids;
  }

  private record(by: Principal, event: AuditEntry['event'], clientId: string, detail?: Record<string, unknown>): Promise<void> {
    return this.deps.audit.recordBy(by, { event, target: `oidc_client:${clientId}`, ...(detail ? { detail } : {}) });
  }
}
