// Table types shared by every dialect. Times are integer milliseconds since the epoch.
import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface OrganizationsTable {
  id: Generated<number>;
  name: string;
  created_at: number;
  /** 1: registration also needs an SMS code sent to the phone (purpose register). */
  register_requires_sms: Generated<number>;
}

export interface InvitationCodesTable {
  code: string;
  organization_id: number;
  created_at: number;
  expires_at: number | null;
  max_uses: number | null;
  uses: Generated<number>;
  revoked_at: number | null;
  /** Registration codes sent by SMS with this invitation code (at most SMS_SENDS_PER_PLACE × max_uses). */
  sms_sends: Generated<number>;
}

/** `admin` runs the whole platform; `org_admin` administers only the organization the account belongs to. */
export type Role = 'user' | 'org_admin' | 'admin';
export type UserStatus = 'active' | 'disabled';

export interface UsersTable {
  id: Generated<number>;
  organization_id: number;
  phone: string;
  name: string;
  password_hash: string | null;
  role: Role;
  status: UserStatus;
  created_at: number;
  updated_at: number;
  /** The invitation code the account registered with (null: created by an admin or a roster import). */
  invitation_code: Generated<string | null>;
  /** The authenticator app's TOTP secret, sealed (security/seal.ts); null: no two-factor sign-in. */
  totp_secret: Generated<string | null>;
  totp_enabled_at: Generated<number | null>;
  /** JSON array of the unused recovery codes' HMACs. */
  totp_recovery_codes: Generated<string | null>;
  /** When an SMS code last proved that the account's owner holds its phone; null: never. */
  phone_verified_at: Generated<number | null>;
  /** The account's stable opaque id for other systems (OpenID Connect `sub`, forward auth's Remote-User); never the phone. */
  subject: string;
}

export interface SessionsTable {
  id: Generated<number>;
  token_hash: string;
  user_id: number;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  absolute_expires_at: number;
  ip: string | null;
  user_agent: string | null;
  /** When the holder last proved each factor in this session (sign-in or re-authentication); null: never. */
  password_at: Generated<number | null>;
  sms_at: Generated<number | null>;
  second_factor_at: Generated<number | null>;
  /** Signed in through an upstream provider (WeChat, WeCom, DingTalk, Feishu, OpenID Connect). */
  federated_at: Generated<number | null>;
  /** Signed in (or re-authenticated) with a passkey. */
  passkey_at: Generated<number | null>;
  /** …and its authenticator verified the user (PIN or biometric): two factors in one. */
  passkey_verified_at: Generated<number | null>;
}

/** queued: waiting for its first run (or re-queued by an admin); failed: an attempt failed and a retry is scheduled; dead: out of attempts (or failed for good), kept as a dead letter. */
export type TaskState = 'queued' | 'running' | 'failed' | 'succeeded' | 'dead';

export interface TasksTable {
  id: string;
  type: string;
  /** JSON. */
  payload: string;
  /** Higher runs first. */
  priority: number;
  state: TaskState;
  attempts: number;
  max_attempts: number;
  /** Not before this time (retries wait here). */
  run_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  last_error: string | null;
  /** JSON. */
  result: string | null;
  /** JSON: what a running handler reported last. */
  progress: string | null;
  /** Submitter-scoped: "<submitter>:<key>". */
  idempotency_key: string | null;
  submitted_by: string | null;
  /** The X-Request-Id of the request that submitted it. */
  request_id: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface ApiKeysTable {
  id: Generated<number>;
  /** The visible part of the key, unique: how people recognize a key in lists and logs. */
  prefix: string;
  /** SHA-256 of the whole key (a 256-bit random secret needs no slow hash). */
  key_hash: string;
  name: string;
  /** Space-separated. */
  scopes: string;
  created_by: number | null;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  /** After this the key is refused; null only for keys revoked before keys had an expiry. */
  expires_at: number | null;
}

export interface AuditEventsTable {
  id: Generated<number>;
  at: number;
  event: string;
  /** "user:12", "apikey:ab12cd34", "cli", or null for an anonymous client. */
  actor: string | null;
  /** What the event concerns: "user:12", "phone:+86…" (masked), "apikey:…", "task:…". */
  target: string | null;
  ip: string | null;
  /** JSON with event-specific details (never secrets). */
  detail: string | null;
}

export interface SmsOutboxTable {
  id: Generated<number>;
  at: number;
  phone: string;
  purpose: string;
  message: string;
  task_id: string | null;
}

export interface RosterImportsTable {
  id: Generated<number>;
  organization_id: number;
  file_name: string;
  /** How the uploaded bytes were decoded: utf-8 or gb18030. */
  encoding: string;
  /** The decoded CSV text; '' once the retention sweep has deleted it (purged_at). */
  content: string;
  content_sha256: string;
  created_by: string | null;
  created_at: number;
  task_id: string | null;
  /** Data rows in the file; null only for imports uploaded before it was recorded (until their task runs). */
  rows: number | null;
  /** Rows processed and committed so far (with their report rows, in the same transaction). */
  done: Generated<number>;
  /** JSON: how many rows of each result so far; null before the first chunk. */
  counts: string | null;
  /** When the retention sweep deleted the file and the per-row report; null while they are kept. */
  purged_at: number | null;
}

/** One row of an import's report, appended with the chunk that settled it. */
export interface RosterImportRowsTable {
  import_id: number;
  row: number;
  name: string;
  phone: string | null;
  result: string;
  input_phone: string | null;
}

export interface RosterExportsTable {
  id: Generated<number>;
  organization_id: number;
  created_by: string | null;
  created_at: number;
  task_id: string | null;
  /** Set when the export finishes: members listed, the CSV, and when. */
  rows: number | null;
  content: string | null;
  finished_at: number | null;
}

export interface InstanceSettingsTable {
  name: string;
  value: string;
  created_at: number;
}

/** A relying party of the OpenID Connect provider. JSON columns hold arrays. */
export interface OidcClientsTable {
  id: Generated<number>;
  client_id: string;
  name: string;
  /** SHA-256 (hex) of the client secret; null: a public client (PKCE, no secret). */
  secret_hash: string | null;
  /** JSON array of exact redirect URIs. */
  redirect_uris: string;
  /** JSON array. */
  post_logout_redirect_uris: string;
  backchannel_logout_uri: string | null;
  /** 0/1: a first-party client skips the consent page. */
  first_party: number;
  /** JSON array: authorization_code, refresh_token, client_credentials. */
  grant_types: string;
  /** JSON array of organization ids whose members may sign in; null: every organization. */
  allowed_organization_ids: string | null;
  /** JSON array of roles that may sign in; null: every role. */
  allowed_roles: string | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  secret_rotated_at: number | null;
  disabled_at: number | null;
}

/** The provider's grants (what a user allowed a client): durable, revoked with the account's events. */
export interface OidcGrantsTable {
  id: string;
  user_id: number;
  client_id: string;
  /** The provider's JSON payload. */
  payload: string;
  created_at: number;
  expires_at: number;
}

export interface OidcRefreshTokensTable {
  id: string;
  grant_id: string;
  payload: string;
  expires_at: number;
  /** When it was rotated; within the reuse window a second use still succeeds. */
  consumed_at: number | null;
}

export interface OidcSigningKeysTable {
  kid: string;
  alg: string;
  sealed_jwk: string;
  created_at: number;
  activates_at: number;
  superseded_at: number | null;
  retires_at: number | null;
}

/** Who may pass forward auth to a protected host (JSON arrays; null: anyone signed in). */
export interface ForwardAuthRulesTable {
  host: string;
  allowed_organization_ids: string | null;
  allowed_roles: string | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

/** An upstream sign-in provider as an administrator set it up (name: a ProviderName). */
export interface SignInProvidersTable {
  name: string;
  app_id: string;
  /** Sealed with SECRET_KEY ('sign-in provider secret'). */
  app_secret: string;
  authorize_url: string | null;
  api_url: string | null;
  /** JSON object of strings. */
  extra: string;
  bound_organization_id: number | null;
  /** 0/1. */
  enabled: number;
  created_at: number;
  updated_at: number;
}

/** An external identity (provider + subject) linked to an account. */
export interface IdentitiesTable {
  id: Generated<number>;
  provider: string;
  subject: string;
  user_id: number;
  display_name: string | null;
  avatar_url: string | null;
  /** JSON object of strings. */
  details: string;
  created_at: number;
  last_sign_in_at: number | null;
}

/** A passkey (WebAuthn credential) of an account. */
export interface PasskeysTable {
  id: Generated<number>;
  user_id: number;
  /** base64url. */
  credential_id: string;
  /** The COSE public key, base64url. */
  public_key: string;
  counter: number;
  /** JSON array of transports (internal, hybrid, usb, nfc, ble…). */
  transports: string;
  device_type: 'singleDevice' | 'multiDevice';
  /** 0/1. */
  backed_up: number;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

export interface DatabaseSchema {
  organizations: OrganizationsTable;
  invitation_codes: InvitationCodesTable;
  users: UsersTable;
  sessions: SessionsTable;
  tasks: TasksTable;
  api_keys: ApiKeysTable;
  audit_events: AuditEventsTable;
  sms_outbox: SmsOutboxTable;
  roster_imports: RosterImportsTable;
  roster_import_rows: RosterImportRowsTable;
  roster_exports: RosterExportsTable;
  instance_settings: InstanceSettingsTable;
  oidc_clients: OidcClientsTable;
  oidc_grants: OidcGrantsTable;
  oidc_refresh_tokens: OidcRefreshTokensTable;
  oidc_signing_keys: OidcSigningKeysTable;
  forward_auth_rules: ForwardAuthRulesTable;
  sign_in_providers: SignInProvidersTable;
  identities: IdentitiesTable;
  passkeys: PasskeysTable;
}

export type OrganizationRow = Selectable<OrganizationsTable>;
export type InvitationCodeRow = Selectable<InvitationCodesTable>;
export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type SessionRow = Selectable<SessionsTable>;
export type TaskRow = Selectable<TasksTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;
export type RosterImportRow = Selectable<RosterImportsTable>;
export type RosterExportRow = Selectable<RosterExportsTable>;
export type OidcClientRow = Selectable<OidcClientsTable>;
export type OidcSigningKeyRow = Selectable<OidcSigningKeysTable>;
export type ForwardAuthRuleRow = Selectable<ForwardAuthRulesTable>;
export type SignInProviderRow = Selectable<SignInProvidersTable>;
export type IdentityRow = Selectable<IdentitiesTable>;
export type PasskeyRow = Selectable<PasskeysTable>;
