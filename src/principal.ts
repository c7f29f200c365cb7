// Who acts: a signed-in user, a program with an API key, or the operator at the command line. A
// service that changes something on someone's behalf takes the principal, applies the rules that
// depend on who it is, and names it in the audit log — so the HTTP API and the command line, which
// only say who is asking, cannot differ in what they allow or record.

import { AppError } from './errors.js';

export type Principal =
  // role and organizationId as loaded with the session at this request: what the user may administer.
  | { readonly kind: 'user'; readonly userId: number; readonly role: 'user' | 'org_admin' | 'admin'; readonly organizationId: number; readonly ip: string }
  | { readonly kind: 'apikey'; readonly prefix: string; readonly ip: string }
  | { readonly kind: 'operator' };

/** The operator running a command on the server (`gatehouse …`): trusted as the machine's owner. */
export const OPERATOR: Principal = Object.freeze({ kind: 'operator' });

/** How the audit log names a principal: `user:<id>`, `apikey:<prefix>` or `cli`. */
export function actorName(principal: Principal): string {
  switch (principal.kind) {
    case 'user':
      return `user:${principal.userId}`;
    case 'apikey':
      return `apikey:${principal.prefix}`;
    case 'operator':
      return 'cli';
  }
}

/** The address a request came from; null for the command line. */
export function addressOf(principal: Principal): string | null {
  return principal.kind === 'operator' ? null : principal.ip;
}

/** Whether the principal is this user signed in (an administrator acting on their own account). */
export function isUser(principal: Principal, userId: number): boolean {
  return principal.kind === 'user' && principal.userId === userId;
}

// What an administrator may administer: the whole platform, or one organization. Platform
// administrators, API keys with the admin scope and the operator at the command line administer
// everything; an organization administrator (role org_admin) only their own organization and its
// members. Every admin action asks here, so that the console, the API and the command line agree.

export type AdminScope = { readonly kind: 'platform' } | { readonly kind: 'organization'; readonly organizationId: number };

const PLATFORM: AdminScope = Object.freeze({ kind: 'platform' });

/**
 * The principal's reach. A signed-in user who is not a platform administrator reaches at most their
 * own organization (the guards let no ordinary user this far): an unknown role narrows, never widens.
 */
export function scopeOf(principal: Principal): AdminScope {
  if (principal.kind !== 'user' || principal.role === 'admin') return PLATFORM;
  return { kind: 'organization', organizationId: principal.organizationId };
}

/** The organization the principal is confined to; undefined for a platform-wide one. */
export function confinedTo(principal: Principal): number | undefined {
  const scope = scopeOf(principal);
  return scope.kind === 'organization' ? scope.organizationId : undefined;
}

/** 403 OUTSIDE_ORGANIZATION unless the principal administers this organization. */
export function requireOrganization(principal: Principal, organizationId: number): void {
  const own = confinedTo(principal);
  if (own !== undefined && own !== organizationId) throw new AppError('OUTSIDE_ORGANIZATION');
}

/** 403 FORBIDDEN unless the principal administers the whole platform (`what` says what was refused). */
export function requirePlatform(principal: Principal, what: string): void {
  if (confinedTo(principal) !== undefined) throw new AppError('FORBIDDEN', { message: `Only a platform administrator can ${what}.` });
}
