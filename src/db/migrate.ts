import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { initial } from './migrations/001_initial.js';
import { tasksKeysAudit } from './migrations/002_tasks_keys_audit.js';
import { smsImports } from './migrations/003_sms_imports.js';
import { userInvitation } from './migrations/004_user_invitation.js';
import { rosterExports } from './migrations/005_roster_exports.js';
import { auditBySubject } from './migrations/006_audit_by_subject.js';
import { twoFactor } from './migrations/007_two_factor.js';
import { instanceSettings } from './migrations/008_instance_settings.js';
import { taskRequestId } from './migrations/009_task_request_id.js';
import { smsHardening } from './migrations/010_sms_hardening.js';
import { adminSessions } from './migrations/012_admin_sessions.js';
import { importProgress } from './migrations/013_import_progress.js';
import { singleSignOn } from './migrations/014_single_sign_on.js';
import { signInProviders } from './migrations/015_sign_in_providers.js';
import { federatedSignIn } from './migrations/016_federated_sign_in.js';
import { passkeys } from './migrations/017_passkeys.js';

// Migrations live in code (not read from a folder) so that the compiled build and tsx run the same list.
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '001_initial': initial,
  '002_tasks_keys_audit': tasksKeysAudit,
  '003_sms_imports': smsImports,
  '004_user_invitation': userInvitation,
  '005_roster_exports': rosterExports,
  '006_audit_by_subject': auditBySubject,
  '007_two_factor': twoFactor,
  '008_instance_settings': instanceSettings,
  '009_task_request_id': taskRequestId,
  '010_sms_hardening': smsHardening,
  '012_admin_sessions': adminSessions,
  '013_import_progress': importProgress,
  '014_single_sign_on': singleSignOn,
  '015_sign_in_providers': signInProviders,
  '016_federated_sign_in': federatedSignIn,
  '017_passkeys': passkeys,
};

class InCodeMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return MIGRATIONS;
  }
}

export interface MigrationReport {
  applied: string[];
}

export async function migrateToLatest(db: Kysely<any>): Promise<MigrationReport> {
  const migrator = new Migrator({ db, provider: new InCodeMigrationProvider() });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
