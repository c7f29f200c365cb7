// A registered client as oidc-provider's client metadata (RFC 7591 names).
import { Provider } from 'oidc-provider';
import type { RegisteredClient } from './clients/types.js';

/**
 * A confidential client may send its secret in the Authorization header (client_secret_basic) or the
 * body (client_secret_post): apps differ, and the provider admits only the registered method, so the
 * method registered for this request is the one the request uses.
 */
function secretMethod(): 'client_secret_basic' | 'client_secret_post' {
  const ctx = Provider.ctx as { headers?: Record<string, string | undefined>; oidc?: { body?: Record<string, unknown> } } | undefined;
  if (ctx?.oidc?.body?.client_secret !== undefined && !/^basic /i.test(ctx.headers?.authorization ?? '')) return 'client_secret_post';
  return 'client_secret_basic';
}

export function clientMetadata(client: RegisteredClient): Record<string, unknown> {
  const method = client.secretHash === null ? 'none' : secretMethod();
  return {
    client_id: client.clientId,
    client_name: client.name,
    // The registry keeps only the secret's SHA-256; compareClientSecret (provider.ts) hashes what is presented.
    ...(client.secretHash === null ? {} : { client_secret: client.secretHash }),
    token_endpoint_auth_method: method,
    introspection_endpoint_auth_method: method,
    revocation_endpoint_auth_method: method,
    grant_types: [...client.grantTypes],
    response_types: client.grantTypes.includes('authorization_code') ? ['code'] : [],
    redirect_uris: [...client.redirectUris],
    post_logout_redirect_uris: [...client.postLogoutRedirectUris],
    ...(client.backchannelLogoutUri ? { backchannel_logout_uri: client.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
    id_token_signed_response_alg: 'RS256',
    // Gatehouse's own facts ride along (extraClientMetadata), so that the provider's hot paths read
    // them from the client it already loaded instead of asking the registry again.
    [GATEHOUSE_METADATA.firstParty]: client.firstParty,
    [GATEHOUSE_METADATA.allowedOrganizationIds]: client.allowedOrganizationIds === null ? null : [...client.allowedOrganizationIds],
    [GATEHOUSE_METADATA.allowedRoles]: client.allowedRoles === null ? null : [...client.allowedRoles],
  };
}

export const GATEHOUSE_METADATA = {
  firstParty: 'gatehouse_first_party',
  allowedOrganizationIds: 'gatehouse_allowed_organization_ids',
  allowedRoles: 'gatehouse_allowed_roles',
} as const;

/** A loaded provider client's Gatehouse facts (extra metadata keeps its snake_case name on the instance). */
export function gatehouseFacts(client: object): { firstParty: boolean; allowedOrganizationIds: readonly number[] | null; allowedRoles: readonly string[] | null } {
  const facts = client as Record<string, unknown>;
  return {
    firstParty: facts[GATEHOUSE_METADATA.firstParty] === true,
    allowedOrganizationIds: (facts[GATEHOUSE_METADATA.allowedOrganizationIds] as number[] | null | undefined) ?? null,
    allowedRoles: (facts[GATEHOUSE_METADATA.allowedRoles] as string[] | null | undefined) ?? null,
  };
}
