// What the rest of the provider knows of a registered client: the registry (service.ts) owns the table.
import type { Role } from '../../db/schema.js';

export type ClientGrantType = 'authorization_code' | 'refresh_token' | 'client_credentials';

export interface RegisteredClient {
  clientId: string;
  name: string;
  /** SHA-256 (hex) of the secret; null: a public client, which must use PKCE and has no secret. */
  secretHash: string | null;
  /** Exact redirect URIs: the provider compares them byte for byte. */
  redirectUris: readonly string[];
  postLogoutRedirectUris: readonly string[];
  backchannelLogoutUri: string | null;
  /** A first-party client (the school's own system) skips the consent page. */
  firstParty: boolean;
  grantTypes: readonly ClientGrantType[];
  /** Organizations whose members may sign in to it; null: every organization. */
  allowedOrganizationIds: readonly number[] | null;
  /** Roles that may sign in to it; null: every role. */
  allowedRoles: readonly Role[] | null;
  /** A disabled client is refused everywhere, as if unknown, until enabled again. */
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

/** How the provider finds a client; the registry implements it. */
export interface ClientLookup {
  /** The client, enabled or not; undefined when there is none. */
  find(clientId: string): Promise<RegisteredClient | undefined>;
}

/** How the registry has a removed client's grants and refresh tokens revoked; the provider implements it. */
export interface ClientGrantRevoker {
  revokeClient(clientId: string): Promise<void>;
}
