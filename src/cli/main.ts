// The command line's dispatcher: finds the command (one word, or a group and a word), parses its
// flags, and turns what went wrong into a message and an exit code.
import { parseArgs } from 'node:util';
import { ConfigError } from '../config.js';
import { isAppError } from '../errors.js';
import { adminCommands } from './admin.js';
import { apiKeyCommands } from './apikey.js';
import { UsageError, type Command, type FlagValue } from './command.js';
import { clientCommands } from './clients.js';
import { backupCommands, migrateCommands } from './database.js';
import { forwardAuthCommands } from './forward-auth.js';
import { inviteCommands } from './invite.js';
import { keyCommands } from './keys.js';
import { limitsCommands } from './limits.js';
import { orgCommands } from './org.js';
import { providerCommands } from './providers.js';
import { serveCommands } from './serve.js';
import { userCommands } from './user.js';
import { workerCommands } from './worker.js';

/** In the order `gatehouse --help` lists them. */
const COMMANDS: Record<string, Command> = {
  ...serveCommands,
  ...workerCommands,
  ...apiKeyCommands,
  ...migrateCommands,
  ...orgCommands,
  ...inviteCommands,
  ...limitsCommands,
  ...userCommands,
  ...backupCommands,
  ...adminCommands,
  ...clientCommands,
  ...keyCommands,
  ...forwardAuthCommands,
  ...providerCommands,
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)} ${c.summary}`);
  return `Usage: gatehouse <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nEach command takes --help. Configuration comes from environment variables (see README).`;
}

export async function main(argv: string[]): Promise<number> {
  const [first, second] = argv;
  if (!first || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(usage() + '\n');
    return first ? 0 : 2;
  }
  const twoWord = second && !second.startsWith('-') ? `${first} ${second}` : undefined;
  const name = twoWord && COMMANDS[twoWord] ? twoWord : first;
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`gatehouse: unknown command "${twoWord ?? first}"\n\n${usage()}\n`);
    return 2;
  }
  const rest = argv.slice(name.split(' ').length);
  try {
    const named = command.positionals ?? [];
    const { values, positionals } = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: named.length > 0 });
    if (values.help) {
      process.stdout.write(`${command.summary}\n\nUsage: ${command.usage}\n`);
      return 0;
    }
    if (positionals.length !== named.length) throw new UsageError(`give ${named.join(' ')}${positionals.length > named.length ? ', and nothing more' : ''}`);
    await command.run(values as Record<string, FlagValue>, positionals);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`gatehouse ${name}: ${(error as Error).message}\n\nUsage: ${command.usage}\n`);
      return 2;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`gatehouse: configuration error: ${error.message}\n`);
      return 2;
    }
    if (isAppError(error)) {
      process.stderr.write(`gatehouse ${name}: ${error.code}: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`gatehouse ${name}: ${(error as Error).message ?? String(error)}\n`);
    return 1;
  }
}
