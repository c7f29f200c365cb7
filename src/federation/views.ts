// How sign-in providers and linked identities look in JSON answers (the API, the console, --json).
import type { LinkedIdentity } from './identities.js';
import type { ProviderView } from './registry.js';

const iso = (at: number | null) => (at === null ? null : new Date(at).toISOString());

export function providerJson(p: ProviderView) {
  return {
    name: p.name,
    configured: p.configured,
    enabled: p.enabled,
    app_id: p.appId,
    app_secret_set: p.appSecretSet,
    authorize_url: p.authorizeUrl,
    api_url: p.apiUrl,
    extra: { ...p.extra },
    bound_organization_id: p.boundOrganizationId,
    created_at: iso(p.createdAt),
    updated_at: iso(p.updatedAt),
  };
}

export type ProviderJson = ReturnType<typeof providerJson>;

export function identityJson(i: LinkedIdentity) {
  return {
    id: i.id,
    provider: i.provider,
    subject: i.subject,
    display_name: i.displayName,
    avatar_url: i.avatarUrl,
    details: { ...i.details },
    created_at: new Date(i.createdAt).toISOString(),
    last_sign_in_at: iso(i.lastSignInAt),
  };
}
