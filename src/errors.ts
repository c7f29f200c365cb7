// Every error the API can answer with: a stable UPPER_SNAKE code, its HTTP status and default message.
// A code is never reused for another meaning; docs/errors.md lists them all (checked by a test).

export const ERROR_CATALOGUE = {
  VALIDATION_FAILED: { status: 400, message: 'The request is not valid.' },
  INVALID_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  MALFORMED_REQUEST: { status: 400, message: 'The request is not valid HTTP.' },
  INVALID_PHONE: { status: 400, message: 'The phone number is not valid.' },
  WEAK_PASSWORD: { status: 400, message: 'The password does not meet the password policy.' },
  INVALID_NAME: { status: 400, message: 'The name is not valid.' },
  CAPTCHA_INVALID: { status: 400, message: 'The captcha answer is wrong; request a new captcha.' },
  CAPTCHA_EXPIRED: { status: 400, message: 'The captcha has expired or was already used; request a new captcha.' },
  CAPTCHA_KIND_NOT_ACCEPTED: { status: 400, message: 'This server does not take this kind of captcha (CAPTCHA_MODE); use the other kind.' },
  CAPTCHA_TOO_EASY: { status: 400, message: 'This phone number is sending many requests: request a new proof-of-work challenge with its phone parameter and solve that.' },
  INVALID_INVITATION_CODE: { status: 400, message: 'The invitation code is not valid.' },
  INVALID_ROSTER: { status: 400, message: 'The roster file cannot be imported.' },
  SMS_REGION_NOT_ALLOWED: { status: 400, message: 'SMS messages are not sent to phone numbers of this country or region.' },
  SMS_NOT_MOBILE: { status: 400, message: 'SMS messages are sent to mobile numbers only.' },
  SMS_INVITATION_REQUIRED: { status: 400, message: 'A registration code is sent only with the invitation code of the organization you register into.' },
  SMS_CODE_REQUIRED: { status: 400, message: 'This organization needs an SMS code to register: request one first.' },
  INVALID_REDIRECT_URI: { status: 400, message: 'A redirect URI is not acceptable: absolute, https (http only on localhost, 127.0.0.1 or [::1]), without a fragment.' },
  INVALID_CLIENT_METADATA: { status: 400, message: 'The app\'s settings do not fit together.' },
  INVALID_TWO_FACTOR_CODE: { status: 400, message: 'The code is wrong or was already used; enter the current code from your authenticator app.' },
  INVALID_HOST: { status: 400, message: 'The host is not valid: give a host name with an optional port, such as app.school.cn or app.school.cn:8443.' },
  INVALID_SIGN_IN_PROVIDER_SETTINGS: { status: 400, message: 'The sign-in provider\'s settings are not acceptable.' },
  UPSTREAM_STATE_INVALID: { status: 400, message: 'This sign-in link has expired, was already used, or was started in another browser: start the sign-in again.' },
  UPSTREAM_CODE_INVALID: { status: 400, message: 'The sign-in provider did not accept its own code (it expired or was already used): start the sign-in again.' },
  PASSKEY_CHALLENGE_INVALID: { status: 400, message: 'This passkey request has expired or was already used: start again.' },
  PASSKEY_REGISTRATION_FAILED: { status: 400, message: 'The passkey could not be verified; try again.' },
  INVITATION_CODE_REQUIRED: { status: 400, message: 'Creating an account needs an invitation code from your organization.' },
  FORWARD_AUTH_URL_MISSING: { status: 400, message: 'The proxy sent no readable original URL: nginx sets X-Original-URL; Traefik and Caddy send X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Uri.' },
  RETURN_URL_NOT_ALLOWED: { status: 400, message: 'This return address is not allowed: only https addresses of hosts with a forward-auth rule are.' },
  INVALID_CREDENTIALS: { status: 401, message: 'The phone number or password is wrong.' },
  PASSKEY_INVALID: { status: 401, message: 'This passkey is not known here, or it did not sign this request.' },
  UNAUTHENTICATED: { status: 401, message: 'Sign in first.' },
  INVALID_SMS_CODE: { status: 401, message: 'The SMS code is wrong, expired or used up; request a new one.' },
  INVALID_API_KEY: { status: 401, message: 'The API key is missing, unknown or revoked.' },
  TWO_FACTOR_REQUIRED: { status: 401, message: 'Enter the code from your authenticator app, or a recovery code, to finish signing in.' },
  TWO_FACTOR_EXPIRED: { status: 401, message: 'This sign-in has expired; sign in again.' },
  SECOND_FACTOR_REQUIRED: { status: 401, message: 'The console needs a session that passed a second factor: confirm with a code from your authenticator app, or with a passkey.' },
  REAUTHENTICATION_REQUIRED: { status: 401, message: 'Confirm it is you (your password or a code from your authenticator app) to do this.' },
  METRICS_TOKEN_REQUIRED: { status: 401, message: 'Send Authorization: Bearer <METRICS_TOKEN>.' },
  FORBIDDEN: { status: 403, message: 'You are not allowed to do this.' },
  OUTSIDE_ORGANIZATION: { status: 403, message: 'An organization administrator manages only their own organization.' },
  CROSS_SITE_REQUEST: { status: 403, message: 'This request came from another site and was refused.' },
  SMS_NOT_REQUIRED: { status: 403, message: 'This organization does not check phone numbers: register without an SMS code.' },
  SMS_QUOTA_EXHAUSTED: { status: 403, message: 'This invitation code has had as many registration codes sent as its places allow; ask the organizer.' },
  ACCOUNT_DISABLED: { status: 403, message: 'This account is disabled.' },
  UPSTREAM_DENIED: { status: 403, message: 'The sign-in provider did not sign you in (you cancelled, or it refused).' },
  TWO_FACTOR_SETUP_REQUIRED: { status: 403, message: 'Administrators turn on two-factor sign-in (on the account page) before using the console.' },
  FORWARD_AUTH_UNTRUSTED_PROXY: { status: 403, message: 'This request did not come from a proxy that TRUST_PROXY names: forward auth believes the original URL only from one.' },
  FORWARD_AUTH_NO_RULE: { status: 403, message: 'Gatehouse has no forward-auth rule for this host, and refuses hosts without one.' },
  FORWARD_AUTH_DENIED: { status: 403, message: "Your account's organization or role is not allowed into this application." },
  NOT_FOUND: { status: 404, message: 'Not found.' },
  INTERACTION_NOT_FOUND: { status: 404, message: 'This sign-in request has expired or is unknown: go back to the app and sign in again.' },
  SESSION_NOT_FOUND: { status: 404, message: 'No such session.' },
  IMPORT_NOT_FOUND: { status: 404, message: 'No such import.' },
  EXPORT_NOT_FOUND: { status: 404, message: 'No such export.' },
  ORGANIZATION_NOT_FOUND: { status: 404, message: 'No such organization.' },
  TASK_NOT_FOUND: { status: 404, message: 'No such task.' },
  API_KEY_NOT_FOUND: { status: 404, message: 'No such API key.' },
  INVITATION_NOT_FOUND: { status: 404, message: 'No such invitation code.' },
  CLIENT_NOT_FOUND: { status: 404, message: 'No such app (OpenID Connect client).' },
  FORWARD_AUTH_RULE_NOT_FOUND: { status: 404, message: 'No such forward-auth rule.' },
  SIGN_IN_PROVIDER_NOT_FOUND: { status: 404, message: 'No such sign-in provider, or it is not set up.' },
  IDENTITY_NOT_FOUND: { status: 404, message: 'No such linked sign-in account.' },
  PASSKEY_NOT_FOUND: { status: 404, message: 'No such passkey.' },
  PASSKEYS_NOT_CONFIGURED: { status: 404, message: 'Passkeys need PUBLIC_URL: the address whose host name passkeys are made for.' },
  SIGN_IN_PENDING_NOT_FOUND: { status: 404, message: 'This sign-in has expired or was finished: start it again.' },
  UNKNOWN_TASK_TYPE: { status: 400, message: 'There is no such task type.' },
  INVALID_TASK_PAYLOAD: { status: 400, message: 'The task payload is not valid for its type.' },
  TASK_NOT_DEAD: { status: 409, message: 'Only a dead task can be retried.' },
  IMPORT_EXPIRED: { status: 410, message: 'The roster file and its per-row report were deleted after the retention period; the import\'s counts remain.' },
  EXPORT_NOT_READY: { status: 409, message: 'The export has not finished yet; follow it at /api/admin/exports/:id.' },
  INVITATION_EXPIRED: { status: 403, message: 'The invitation code has expired.' },
  INVITATION_EXHAUSTED: { status: 409, message: 'The invitation code has been used as many times as it allows.' },
  CLIENT_HAS_NO_SECRET: { status: 409, message: 'A public app has no secret to rotate.' },
  IDENTITY_TAKEN: { status: 409, message: 'This sign-in account is already linked to another Gatehouse account.' },
  PASSKEY_ALREADY_REGISTERED: { status: 409, message: 'This passkey is already added to an account.' },
  LAST_SIGN_IN_METHOD: { status: 409, message: 'This is the only way left to sign in to the account: set a password or link another sign-in account first.' },
  ORGANIZATION_NOT_EMPTY: { status: 409, message: 'The organization still has members: move them to another organization or delete their accounts first.' },
  PHONE_TAKEN: { status: 409, message: 'An account with this phone number already exists.' },
  TWO_FACTOR_ALREADY_ENABLED: { status: 409, message: 'Two-factor sign-in is already on for this account.' },
  TWO_FACTOR_NOT_ENABLED: { status: 409, message: 'Two-factor sign-in is not on for this account.' },
  TWO_FACTOR_SETUP_EXPIRED: { status: 409, message: 'The setup has expired; start it again.' },
  EXPORT_EXPIRED: { status: 410, message: 'This export has expired and its file was deleted; export again.' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request took too long to arrive; send it again.' },
  BODY_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send the request body as application/json.' },
  ACCOUNT_LOCKED: { status: 423, message: 'Too many wrong passwords: this account is locked for a while.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; try again later.' },
  SMS_CAP_REACHED: { status: 429, message: 'No more SMS messages can be sent for now; try again later.' },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request headers are too large.' },
  INTERNAL_ERROR: { status: 500, message: 'Something went wrong on our side.' },
  UPSTREAM_BAD_RESPONSE: { status: 502, message: 'The sign-in provider answered something Gatehouse cannot read; try again later.' },
  UPSTREAM_UNAVAILABLE: { status: 503, message: 'The sign-in provider did not answer in time or is down; try again later.' },
  STORE_UNAVAILABLE: { status: 503, message: 'A backing store is unavailable; try again shortly.' },
  OVERLOADED: { status: 503, message: 'The server is busy; try again in a moment.' },
  SHUTTING_DOWN: { status: 503, message: 'The server is restarting; try again shortly.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra fields placed beside code and message in the error body (e.g. attempts_left). */
  readonly details: Readonly<Record<string, unknown>> | undefined;
  /** Seconds for a Retry-After header (429, 423, 503). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    options: { message?: string; details?: Record<string, unknown>; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(options.message ?? ERROR_CATALOGUE[code].message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
