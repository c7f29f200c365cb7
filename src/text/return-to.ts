// Where a sign-in sends a visitor who is signed in (already, or just now): the page they were going to,
// from a `return_to`, when that is a path on this site; else the account page. Only a local path
// passes: a link that sent people from this site's sign-in page to another host would lend the site's
// name to a phishing page (an open redirect). No DOM and no Node here: the pages and the server (the
// sign-in through an upstream provider carries a return_to across the provider) share it.

export const DEFAULT_RETURN_TO = '/account';

/** Pages that send a signed-in visitor on: going back to one of them would come straight back. */
const SIGN_IN_PAGES: ReadonlySet<string> = new Set(['/login', '/login/sms', '/register', '/sign-in/continue']);

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
