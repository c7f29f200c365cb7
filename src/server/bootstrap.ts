// What the first start on an empty data directory does: migrate and create a first organization.
import { ConfigError } from '../config.js';
import type { Database } from '../db/database.js';
import { settleInstanceSetting } from '../db/instance-settings.js';
import { migrateToLatest } from '../db/migrate.js';
import { OrgService } from '../orgs/service.js';
import { secretFingerprint } from '../security/secret.js';
import { secretsEqual } from '../security/tokens.js';

export interface BootstrapResult {
  migrationsApplied: string[];
  firstOrganization?: { id: number; name: string; invitationCode: string };
}

export async function prepareDatabase(database: Database, secret: string): Promise<BootstrapResult> {
  // Another process (a second server starting, a CLI command) may hold the write lock for a moment.
  const { applied } = await database.retrying(() => migrateToLatest(database.db));
  await refuseAnotherSecret(database, secret);
  const orgs = new OrgService(database);
  if ((await orgs.countOrganizations()) > 0) return { migrationsApplied: applied };
  const { organization, invitation } = await orgs.createOrganization('My organization');
  return { migrationsApplied: applied, firstOrganization: { id: organization.id, name: organization.name, invitationCode: invitation.code } };
}

export function firstRunMessage(result: BootstrapResult, url: string): string | null {
  const org = result.firstOrganization;
  if (!org) return null;
  return [
    '',
    `Gatehouse: new data directory set up. First organization "${org.name}" (id ${org.id}).`,
    `  Invitation code: ${org.invitationCode}`,
    `  Registration:    ${url}/register?code=${org.invitationCode}  (share this link)`,
    '  Create the first admin, then sign in and open the console:',
    `    npx gatehouse admin create --phone <mobile number> --name "<your name>" --org ${org.id}`,
    `    ${url}/login  →  ${url}/admin`,
    '',
  ].join('\n');
}

/**
 * The first server to start records its key's fingerprint; a server with another key refuses to
 * start, rather than answer every captcha, SMS code and two-factor code made elsewhere as wrong.
 */
export async function refuseAnotherSecret(database: Database, secret: string): Promise<void> {
  const mine = secretFingerprint(secret);
  const settled = await database.retrying(() => settleInstanceSetting(database.db, 'secret_key_fingerprint', mine));
  if (!secretsEqual(settled, mine)) {
    throw new ConfigError(
      `SECRET_KEY is not the key this database was set up with (its fingerprint ${settled.slice(0, 8)}…, this server's ${mine.slice(0, 8)}…). ` +
        'Every server must use the same key: with another one, captchas and codes made elsewhere fail here and sealed two-factor secrets cannot be opened. ' +
        'Set SECRET_KEY to the key the other servers use (embedded mode without SECRET_KEY: DATA_DIR/secret.key — after a restore, copy it from the old data directory).',
    );
  }
}
