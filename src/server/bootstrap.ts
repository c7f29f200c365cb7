// What the first start on an empty data directory does: migrate and create a first organization.
import type { Database } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { OrgService } from '../orgs/service.js';

export interface BootstrapResult {
  migrationsApplied: string[];
  firstOrganization?: { id: number; name: string; invitationCode: string };
}

export async function prepareDatabase(database: Database): Promise<BootstrapResult> {
  // Another process (a second server starting, a CLI command) may hold the write lock for a moment.
  const { applied } = await database.retrying(() => migrateToLatest(database.db));
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
