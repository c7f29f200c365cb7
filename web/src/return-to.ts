// Where a sign-in page sends a visitor who is signed in (already, or just now): the page they were
// going to, from the URL's `return_to` (or `next`), when that is a path on this site; else the
// account page. Only a local path passes: a link that sent people from this site's sign-in page to
// another host would lend the site's name to a phishing page (an open redirect).
// No DOM here: the unit test runs it in Node.

export const DEFAULT_RETURN_TO = '/account';

/** Pages that send a signed-in visitor on: going back to one of them would come straight back. */
const SIGN_IN_PAGES: ReadonlySet<string> = new Set(['/login', '/login/sms', '/register']);

const LOCAL_ORIGIN = 'https://gatehouse.invalid';

export function safeReturnTo(raw: string | null | undefined): string {
  if (!raw || raw.length > 2048) return DEFAULT_RETURN_TO;
  // One slash, then not a second one nor a backslash: "//host" and "/\host" name another host to a
  // browser. No backslash or control character anywhere either: browsers read "\" as "/" and drop
  // tabs and newlines, so "/\t/host" would become "//host".
  if (!/^\/(?![/\\])/.test(raw) || /[\\\u0000-\u001f\u007f]/.test(raw)) return DEFAULT_RETURN_TO;
  let url: URL;
  try {
    url = new URL(raw, LOCAL_ORIGIN);
  } catch {
    return DEFAULT_RETURN_TO;
  }
  if (url.origin !== LOCAL_ORIGIN || SIGN_IN_PAGES.has(url.pathname)) return DEFAULT_RETURN_TO;
  return `${url.pathname}${url.search}${url.hash}`;
}

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
