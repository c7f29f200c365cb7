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
  };
}
