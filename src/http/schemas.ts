// Schema pieces shared by every route: the error body and common field shapes.
import { Type, type TSchema } from 'typebox';
import { LIMIT_SCOPES } from '../kv/rate-limiter.js';

export const ErrorBody = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'Stable UPPER_SNAKE error code (docs/errors.md).' }),
        message: Type.String(),
        field: Type.Optional(Type.String({ description: 'The request field at fault, e.g. body.phone (validation errors, a wrong current password).' })),
        attempts_left: Type.Optional(Type.Integer({ description: 'INVALID_CREDENTIALS, ACCOUNT_LOCKED: wrong passwords left before the account locks.' })),
        limit: Type.Optional(Type.String({ description: 'RATE_LIMITED: which limit, e.g. register_ip, login_account.' })),
        scope: Type.Optional(
          Type.Union(LIMIT_SCOPES.map((scope) => Type.Literal(scope)), {
            description: 'RATE_LIMITED: what the limit counts; an address limit is met by everyone behind one address together, and an administrator can lift it.',
          }),
        ),
      },
      { additionalProperties: true },
    ),
  },
  { $id: 'ErrorBody', description: 'Every error answer has this shape.' },
);

/** Response schemas for a route: its success bodies plus the shared error body for 4xx and 5xx. */
export function responses<T extends Record<number, TSchema>>(success: T) {
  return { ...success, '4xx': ErrorBody, '5xx': ErrorBody };
}

export const PhoneField = Type.String({ minLength: 1, maxLength: 32, description: 'Mobile number; without a country code DEFAULT_REGION applies.' });
export const CaptchaIdField = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
export const CaptchaAnswerField = Type.String({ minLength: 1, maxLength: 16 });
/** The ALTCHA widget's payload: base64 of {challenge, solution} for a challenge from GET /api/auth/altcha/challenge. */
export const AltchaField = Type.String({ minLength: 1, maxLength: 4096, pattern: '^[A-Za-z0-9+/]+={0,2}$', description: 'Instead of captcha_id + captcha: the proof-of-work solution, as the ALTCHA widget submits it (base64 of {challenge, solution}).' });
/** Every captcha-protected body: captcha_id + captcha (image) or altcha (proof of work), one of them. */
export const CaptchaFields = {
  captcha_id: Type.Optional(CaptchaIdField),
  captcha: Type.Optional(CaptchaAnswerField),
  altcha: Type.Optional(AltchaField),
};
export const SmsCodeField = Type.String({ minLength: 1, maxLength: 16, description: 'The 6-digit code from the SMS.' });
export const PasswordField = Type.String({ minLength: 1, maxLength: 1024 });

export const UserBody = Type.Object({
  id: Type.Integer(),
  phone: Type.String(),
  name: Type.String(),
  role: Type.Union([Type.Literal('user'), Type.Literal('org_admin'), Type.Literal('admin')], { description: 'admin: a platform administrator; org_admin: administers only their own organization' }),
  status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
  organization_id: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
  two_factor_enabled: Type.Boolean({ description: 'Signing in also needs a code from an authenticator app' }),
  password_set: Type.Boolean({ description: 'False: the account signs in by SMS code until its owner sets a password (a roster account, or one whose password was removed when its phone was first proven)' }),
});

export const UserEnvelope = Type.Object({ user: UserBody });

/** The task behind an import or an export, null before it is submitted. */
export const TaskSummaryBody = Type.Union([
  Type.Object({ id: Type.String(), state: Type.String(), attempts: Type.Integer(), last_error: Type.Union([Type.String(), Type.Null()]), progress: Type.Unknown() }),
  Type.Null(),
]);
