// `gatehouse admin create`: the first administrator (and any other).
import { loadConfig } from '../config.js';
import { json, positiveInt, print, UsageError, withRuntime, type Command } from './command.js';

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

export const adminCommands: Record<string, Command> = {
  'admin create': {
    summary: 'Create an administrator account',
    usage:
      'gatehouse admin create --phone PHONE --name NAME [--org ID] [--password-stdin] [--json]\n\n  Without --password-stdin a strong password is generated and printed once.',
    options: { phone: { type: 'string' }, name: { type: 'string' }, org: { type: 'string' }, 'password-stdin': { type: 'boolean', default: false }, json },
    async run(values) {
      if (typeof values.phone !== 'string') throw new UsageError('--phone is required');
      if (typeof values.name !== 'string') throw new UsageError('--name is required');
      const config = loadConfig();
      const [{ randomToken }, { createPasswordHasher }, { createServices }, { publicUser }, { OPERATOR }] = await Promise.all([
        import('../security/tokens.js'),
        import('../security/password.js'),
        import('../services.js'),
        import('../accounts/views.js'),
        import('../principal.js'),
      ]);
      const password = values['password-stdin'] ? await readStdinLine() : randomToken(15);
      await withRuntime(config, async (runtime) => {
        const hasher = createPasswordHasher(1, config.passwordHash);
        try {
          const { orgs, registration } = createServices({ config, ...runtime, hasher });
          const orgId = positiveInt(values.org, '--org') ?? (await orgs.listOrganizations())[0]?.id;
          if (orgId === undefined || !(await orgs.findOrganization(orgId))) throw new UsageError('no such organization: create one with `gatehouse org create` or pass --org ID');
          const user = await registration.createUser(OPERATOR, { phone: values.phone as string, name: values.name as string, password, organizationId: orgId, role: 'admin' });
          const out = { user: publicUser(user), ...(values['password-stdin'] ? {} : { password }) };
          print(out, values.json === true, () =>
            `admin ${user.id} created for ${user.phone}` + (values['password-stdin'] ? '' : `\npassword (shown once): ${password}`),
          );
        } finally {
          await hasher.close();
        }
      });
    },
  },
};
