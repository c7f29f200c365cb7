// Table types shared by every dialect. Times are integer milliseconds since the epoch.
import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface OrganizationsTable {
  id: Generated<number>;
  name: string;
  created_at: number;
}

export interface InvitationCodesTable {
  code: string;
  organization_id: number;
  created_at: number;
  expires_at: number | null;
  max_uses: number | null;
  uses: Generated<number>;
  revoked_at: number | null;
}

export type Role = 'user' | 'admin';
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
}

export interface DatabaseSchema {
  organizations: OrganizationsTable;
  invitation_codes: InvitationCodesTable;
  users: UsersTable;
  sessions: SessionsTable;
}

export type OrganizationRow = Selectable<OrganizationsTable>;
export type InvitationCodeRow = Selectable<InvitationCodesTable>;
export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type SessionRow = Selectable<SessionsTable>;
