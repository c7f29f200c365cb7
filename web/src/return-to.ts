// The pages' side of return_to: the rule itself is shared with the server (src/text/return-to.ts).
// No DOM here: the unit test runs it in Node.
import { DEFAULT_RETURN_TO, safeReturnTo } from '../../src/text/return-to.js';

export { DEFAULT_RETURN_TO, safeReturnTo };

/** The destination named by a page's query string (`return_to`, else `next`). */
export function returnToFrom(search: string): string {
  const params = new URLSearchParams(search);
  return safeReturnTo(params.get('return_to') ?? params.get('next'));
}

/** The sign-in page's address that comes back to `here` (a path with its query and hash) afterwards. */
export function signInPath(here: string, page = '/login'): string {
  const back = safeReturnTo(here);
  return back === DEFAULT_RETURN_TO ? page : `${page}?${new URLSearchParams({ return_to: back })}`;
}
