// A registered client as the provider reads it (RegisteredClient), as administrators see it
// (ClientDetails), and as the API and the command line's --json print it. None holds a secret.
import type { OidcClientRow, Role } from '../../db/schema.js';
import type { ClientGrantType, RegisteredClient } from './types.js';

/** What an administrator sees of a client: the provider's view, and who made it and when things changed. */
export interface ClientDetails extends RegisteredClient {
  /** The audit log's name of who registered it (user:1, apikey:abcd2345, cli). */
  createdBy: string | null;
  secretRotatedAt: number | null;
  disabledAt: number | null;
}

function jsonArray<T>(text: string): T[] {
  return JSON.parse(text) as T[];
}

export function toDetails(row: OidcClientRow): ClientDetails {
  return {
    clientId: row.client_id,
    name: row.name,
    secretHash: row.secret_hash,
    redirectUris: jsonArray<string>(row.redirect_uris),
    postLogoutRedirectUris: jsonArray<string>(row.post_logout_redirect_uris),
    backchannelLogoutUri: row.backchannel_logout_uri,
    firstParty: row.first_party === 1,
    grantTypes: jsonArray<ClientGrantType>(row.grant_types),
    allowedOrganizationIds: row.allowed_organization_ids === null ? null : jsonArray<number>(row.allowed_organization_ids),
    allowedRoles: row.allowed_roles === null ? null : jsonArray<Role>(row.allowed_roles),
    disabled: row.disabled_at !== null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    createdBy: row.created_by,
    secretRotatedAt: row.secret_rotated_at,
    disabledAt: row.disabled_at,
  };
}

/** The provider's view: exactly the contract's fields, nothing an administrator alone needs. */
export function toRegistered(details: ClientDetails): RegisteredClient {
  const { createdBy: _createdBy, secretRotatedAt: _rotated, disabledAt: _disabled, ...registered } = details;
  return registered;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A client as the admin API and `gatehouse clients … --json` show it; never the secret nor its hash. */
export function clientJson(client: ClientDetails) {
  return {
    client_id: client.clientId,
    name: client.name,
    type: client.secretHash === null ? ('public' as const) : ('confidential' as const),
    redirect_uris: [...client.redirectUris],
    post_logout_redirect_uris: [...client.postLogoutRedirectUris],
    backchannel_logout_uri: client.backchannelLogoutUri,
    first_party: client.firstParty,
    grant_types: [...client.grantTypes],
    allowed_organization_ids: client.allowedOrganizationIds === null ? null : [...client.allowedOrganizationIds],
    allowed_roles: client.allowedRoles === null ? null : [...client.allowedRoles],
    status: client.disabled ? ('disabled' as const) : ('active' as const),
    created_by: client.createdBy,
    created_at: iso(client.createdAt)!,
    updated_at: iso(client.updatedAt)!,
    secret_rotated_at: iso(client.secretRotatedAt),
    disabled_at: iso(client.disabledAt),
  };
}

export type ClientJson = ReturnType<typeof clientJson>;
