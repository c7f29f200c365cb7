// A small web app that signs people in with Gatehouse (OpenID Connect: authorization code flow with
// PKCE, state and nonce) using only node:http and openid-client. Copy it, set the environment
// variables in README.md, and run `node server.js`.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import * as oidc from 'openid-client';

const { ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, PORT = '3000' } = process.env;
if (!ISSUER || !CLIENT_ID || !REDIRECT_URI) {
  console.error('Set ISSUER, CLIENT_ID and REDIRECT_URI (and CLIENT_SECRET unless the app was registered with --public): see README.md');
  process.exit(2);
}

/** The app's home page: Gatehouse sends people back here after they sign out (register it with --post-logout-redirect-uri). */
const HOME = new URL('/', REDIRECT_URI).href;
const SCOPE = 'openid profile';

// Discovery reads Gatehouse's endpoints and keys from ISSUER/.well-known/openid-configuration. Plain
// http is refused by openid-client except when allowed here: only for an issuer on this machine
// (http://127.0.0.1 or http://localhost), to try things out. A real Gatehouse is https.
const local = ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(ISSUER).hostname);
const config = await oidc.discovery(
  new URL(ISSUER),
  CLIENT_ID,
  CLIENT_SECRET, // undefined for a public app, which proves itself with PKCE alone
  CLIENT_SECRET ? undefined : oidc.None(),
  local ? { execute: [oidc.allowInsecureRequests] } : undefined,
);

// Who is signed in, per browser: a random id in a cookie, the rest in this process's memory. An app
// run as several processes keeps this in its database or Redis instead. Entries expire, so that
// visitors who never finish signing in do not fill the memory.
const COOKIE = 'app_session';
const SESSION_TTL_MS = 8 * 3600_000;
const SIGN_IN_TTL_MS = 10 * 60_000;
const sessions = new Map();
setInterval(() => {
  const now = Date.now();
  for (const [id, session] of sessions) if (session.expiresAt < now) sessions.delete(id);
}, 60_000).unref();

function sessionOf(req) {
  const id = req.headers.cookie?.split(/;\s*/).find((pair) => pair.startsWith(`${COOKIE}=`))?.slice(COOKIE.length + 1);
  const session = id && sessions.get(id);
  return session && session.expiresAt > Date.now() ? { id, ...session } : undefined;
}

/** A new session id for `data`; its cookie. HttpOnly: scripts cannot read it. SameSite=Lax: sent when Gatehouse redirects back, not on other sites' form posts. */
function newSession(data, ttlMs) {
  const id = randomBytes(32).toString('base64url');
  sessions.set(id, { ...data, expiresAt: Date.now() + ttlMs });
  const secure = REDIRECT_URI.startsWith('https:') ? '; Secure' : '';
  return `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${Math.floor(ttlMs / 1000)}${secure}`;
}

const ENDED = `${COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`;

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, status, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Example app</title><link rel="icon" href="data:,"></head><body><main>${body}</main></body></html>`);
}

function redirect(res, location, cookie) {
  res.writeHead(303, { location, 'cache-control': 'no-store', ...(cookie ? { 'set-cookie': cookie } : {}) });
  res.end();
}

async function home(req, res) {
  const user = sessionOf(req)?.user;
  if (!user) return page(res, 200, '<h1>Example app</h1><p><a href="/login">Sign in with Gatehouse</a></p>');
  page(
    res,
    200,
    `<h1>Hello, <span id="name">${escape(user.name)}</span></h1>
<p>What Gatehouse says about you:</p><pre id="claims">${escape(JSON.stringify(user.claims, null, 2))}</pre>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>`,
  );
}

/** Sends the browser to Gatehouse, remembering what the callback must check. */
async function login(_req, res) {
  // PKCE: only this app, which keeps the verifier, can exchange the code it gets back.
  const codeVerifier = oidc.randomPKCECodeVerifier();
  // state ties the callback to this browser's request (no forged callbacks); nonce ties the ID token to it.
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  redirect(res, url.href, newSession({ signIn: { codeVerifier, state, nonce } }, SIGN_IN_TTL_MS));
}

/** Gatehouse sends the browser back here with a code (or an error such as access_denied). */
async function callback(req, res) {
  const session = sessionOf(req);
  if (!session?.signIn) return page(res, 400, '<p>This sign-in was not started in this browser, or took too long. <a href="/login">Sign in again</a></p>');
  sessions.delete(session.id); // one callback per sign-in
  const { codeVerifier, state, nonce } = session.signIn;
  let tokens;
  try {
    // Checks the state, exchanges the code with the PKCE verifier, and checks the ID token (issuer,
    // audience, expiry, nonce) before trusting anything in it.
    tokens = await oidc.authorizationCodeGrant(config, new URL(req.url, REDIRECT_URI), { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
  } catch (error) {
    // The person said no on the consent page (access_denied), or the request was refused.
    if (error instanceof oidc.AuthorizationResponseError) return page(res, 403, `<p>Not signed in: ${escape(error.error)}. <a href="/">Back</a></p>`);
    throw error;
  }
  const claims = tokens.claims();
  // The name comes from the userinfo endpoint: the ID token says who signed in, not their profile.
  const profile = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
  const user = { name: profile.name ?? claims.sub, claims: { ...claims, ...profile }, idToken: tokens.id_token };
  // A new session id once signed in: an id someone planted before the sign-in is worth nothing.
  redirect(res, '/', newSession({ user }, SESSION_TTL_MS));
}

/** Ends this app's session, then Gatehouse's (which signs the person out of every app). A POST, so that no other site can sign people out with a link. */
async function logout(req, res) {
  const session = sessionOf(req);
  if (session) sessions.delete(session.id);
  if (!session?.user) return redirect(res, '/', ENDED);
  // id_token_hint tells Gatehouse which app and account; it returns to HOME only if it was registered.
  const url = oidc.buildEndSessionUrl(config, { id_token_hint: session.user.idToken, post_logout_redirect_uri: HOME });
  redirect(res, url.href, ENDED);
}

const routes = { 'GET /': home, 'GET /login': login, 'GET /callback': callback, 'POST /logout': logout };

createServer((req, res) => {
  const route = routes[`${req.method} ${new URL(req.url, HOME).pathname}`];
  if (!route) return page(res, 404, '<p>Not found. <a href="/">Home</a></p>');
  route(req, res).catch((error) => {
    console.error(error);
    if (!res.headersSent) page(res, 500, '<p>Something went wrong signing you in. <a href="/">Try again</a></p>');
  });
}).listen(Number(PORT), () => console.log(`Example app listening on ${HOME}`));
