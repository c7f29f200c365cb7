// `gatehouse user …`: an administrator's help with one account.
import { AppError } from '../errors.js';
import { OPERATOR } from '../principal.js';
import { json, print, UsageError, withServices, type Command } from './command.js';

export const userCommands: Record<string, Command> = {
  'user unlock': {
    summary: 'Clear the failed-password count of an account (lifts a lockout)',
    usage: 'gatehouse user unlock --phone PHONE [--json]',
    options: { phone: { type: 'string' }, json },
    async run(values) {
      if (typeof values.phone !== 'string') throw new UsageError('--phone is required');
      await withServices(async ({ admin }) => {
        await admin.users.unlockPhone(OPERATOR, values.phone as string);
        print({ unlocked: true }, values.json === true, () => 'unlocked');
      });
    },
  },
  'user reset-2fa': {
    summary: 'Turn off two-factor sign-in for an account whose owner lost the phone and the recovery codes',
    usage: 'gatehouse user reset-2fa --phone PHONE [--json]',
    options: { phone: { type: 'string' }, json },
    async run(values) {
      if (typeof values.phone !== 'string') throw new UsageError('--phone is required');
      await withServices(async ({ accounts, admin }) => {
        const found = await accounts.findByPhone(accounts.parsePhone(values.phone as string).e164);
        if (!found) throw new UsageError('no account with this phone number');
        try {
          await admin.users.resetTwoFactor(OPERATOR, found.id);
        } catch (error) {
          if (error instanceof AppError && error.code === 'TWO_FACTOR_NOT_ENABLED') throw new UsageError('two-factor sign-in is not on for this account');
          throw error;
        }
        print({ two_factor_enabled: false }, values.json === true, () => 'two-factor sign-in turned off: the owner signs in with the password alone');
      });
    },
  },
  'user set-role': {
    summary: "Change an account's role: admin (platform administrator), org_admin (administers its own organization) or user",
    usage: 'gatehouse user set-role --phone PHONE --role admin|org_admin|user [--json]\n\n  A demoted platform administrator\'s API keys are revoked; the change is in the audit log (admin.user_changed).',
    options: { phone: { type: 'string' }, role: { type: 'string' }, json },
    async run(values) {
      if (typeof values.phone !== 'string') throw new UsageError('--phone is required');
      const role = values.role;
      if (role !== 'admin' && role !== 'org_admin' && role !== 'user') throw new UsageError('--role must be admin, org_admin or user');
      await withServices(async ({ accounts, admin }) => {
        const phone = accounts.parsePhone(values.phone as string);
        const user = await accounts.findByPhone(phone.e164);
        if (!user) throw new AppError('NOT_FOUND', { message: `No account has the phone number ${phone.e164}.` });
        const changed = await admin.users.change(OPERATOR, user.id, { role });
        print({ id: changed.id, role: changed.role }, values.json === true, () => `account ${changed.id} is now ${changed.role}`);
      });
    },
  },
  'user delete': {
    summary: 'Delete an account for good (its sessions end; the phone number can register again)',
    usage: 'gatehouse user delete --phone PHONE --yes [--json]\n\n  --yes confirms: the account cannot be restored (except from a backup). The audit log keeps its events.',
    options: { phone: { type: 'string' }, yes: { type: 'boolean' }, json },
    async run(values) {
      if (typeof values.phone !== 'string') throw new UsageError('--phone is required');
      if (values.yes !== true) throw new UsageError('deleting an account cannot be undone: add --yes to confirm');
      await withServices(async ({ accounts, admin }) => {
        const phone = accounts.parsePhone(values.phone as string);
        const user = await accounts.findByPhone(phone.e164);
        if (!user) throw new AppError('NOT_FOUND', { message: `No account has the phone number ${phone.e164}.` });
        const deleted = await admin.users.delete(OPERATOR, user.id);
        print({ deleted: true, id: deleted.id }, values.json === true, () => `account ${deleted.id} deleted`);
      });
    },
  },
};
