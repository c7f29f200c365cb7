// Who acts: a signed-in user, a program with an API key, or the operator at the command line. A
// service that changes something on someone's behalf takes the principal, applies the rules that
// depend on who it is, and names it in the audit log — so the HTTP API and the command line, which
// only say who is asking, cannot differ in what they allow or record.

export type Principal =
  | { readonly kind: 'user'; readonly userId: number; readonly ip: string }
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
