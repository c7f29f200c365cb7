// Who is signed in, asked once per page load (GET /api/auth/me) and shared by the header and the page.
import { api } from './api.js';

export interface SignedInUser {
  id: number;
  phone: string;
  name: string;
  role: 'user' | 'org_admin' | 'admin';
  organization_id: number;
  two_factor_enabled: boolean;
  /** False: the account signs in by SMS code until its owner sets a password. */
  password_set: boolean;
}

let asked: Promise<SignedInUser | null> | undefined;

/** The signed-in user, or null when nobody is (or the server could not say). */
export function signedInUser(): Promise<SignedInUser | null> {
  asked ??= api<{ user: SignedInUser }>('GET', '/api/auth/me').then((res) => (res.ok ? res.data.user : null));
  return asked;
}
