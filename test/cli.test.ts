import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { mapConcurrent, runCli } from './helpers/cluster.js';

describe('gatehouse CLI', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-cli-'));
  const env = { DATA_DIR: dataDir };
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('every command has --help; an unknown command exits 2 with the usage', async () => {
    const commands = [['serve'], ['worker'], ['migrate'], ['org', 'create'], ['org', 'list'], ['org', 'set'], ['org', 'export'], ['org', 'delete'], ['admin', 'create'], ['apikey', 'create'], ['apikey', 'list'], ['apikey', 'revoke'], ['invite', 'create'], ['invite', 'set'], ['invite', 'revoke'], ['invite', 'rotate'], ['limits', 'show'], ['limits', 'reset'], ['user', 'unlock'], ['user', 'reset-2fa'], ['user', 'set-role'], ['user', 'delete']];
    // A few at a time: each is a process of its own that only prints.
    await mapConcurrent(commands, 4, async (command) => {
      const res = await runCli([...command, '--help'], env);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, new RegExp(`Usage: gatehouse ${command.join(' ')}`));
    });
    const unknown = await runCli(['frobnicate'], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command/);
    const badFlag = await runCli(['org', 'create', '--nmae', 'x'], env);
    assert.equal(badFlag.code, 2);
  });

  it('migrate, org create and org list speak JSON for scripts', async () => {
    const migrated = await runCli(['migrate', '--json'], env);
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.deepEqual(JSON.parse(migrated.stdout), { applied: ['001_initial', '002_tasks_keys_audit', '003_sms_imports', '004_user_invitation', '005_roster_exports', '006_audit_by_subject', '007_two_factor', '008_instance_settings', '009_task_request_id', '010_sms_hardening', '012_admin_sessions', '013_import_progress', '014_single_sign_on'] });

    const created = await runCli(['org', 'create', '--name', '北京第一中学', '--max-uses', '500', '--json'], env);
    assert.equal(created.code, 0, created.stderr);
    const org = JSON.parse(created.stdout);
    assert.equal(org.name, '北京第一中学');
    assert.match(org.invitation_code, /^[A-HJ-NP-Z2-9]{8}$/);
    assert.equal(org.max_uses, 500);

    const listed = await runCli(['org', 'list', '--json'], env);
    const orgs = JSON.parse(listed.stdout);
    const found = orgs.find((o: { id: number }) => o.id === org.id);
    assert.equal(found.invitation_codes[0].invitation_code, org.invitation_code);
    assert.equal(found.user_count, 0);
  });

  it('admin create makes an admin with a generated password, or one read from stdin', async () => {
    const generated = await runCli(['admin', 'create', '--phone', '13811112222', '--name', 'Root', '--json'], env);
    assert.equal(generated.code, 0, generated.stderr);
    const out = JSON.parse(generated.stdout);
    assert.equal(out.user.role, 'admin');
    assert.equal(out.user.phone, '+8613811112222');
    assert.ok(out.password.length >= 20);

    const fromStdin = await runCli(['admin', 'create', '--phone', '13811113333', '--name', 'Ops', '--password-stdin', '--json'], env, 'a chosen admin passphrase\n');
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.equal(JSON.parse(fromStdin.stdout).password, undefined);

    const taken = await runCli(['admin', 'create', '--phone', '13811112222', '--name', 'Again'], env);
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /PHONE_TAKEN/);
    const weak = await runCli(['admin', 'create', '--phone', '13811114444', '--name', 'W', '--password-stdin'], env, 'password\n');
    assert.equal(weak.code, 1);
    assert.match(weak.stderr, /WEAK_PASSWORD/);
  });

  it('org set renames an organization; org export writes its member list to stdout or to a private file', async () => {
    const renamed = await runCli(['org', 'set', '--id', '1', '--name', ' 第一 中学 ', '--json'], env);
    assert.equal(renamed.code, 0, renamed.stderr);
    assert.equal(JSON.parse(renamed.stdout).name, '第一 中学');
    const blank = await runCli(['org', 'set', '--id', '1', '--name', '   '], env);
    assert.equal(blank.code, 1);
    assert.match(blank.stderr, /INVALID_NAME/);
    assert.equal((await runCli(['org', 'set', '--id', '1'], env)).code, 2, 'nothing to change');

    const printed = await runCli(['org', 'export', '--id', '1'], env);
    assert.equal(printed.code, 0, printed.stderr);
    assert.ok(printed.stdout.startsWith('\uFEFFname,phone,role,status,registered_at,invitation_code,password_set\r\n'));
    assert.match(printed.stdout, /\r\nRoot,'\+8613811112222,admin,active,[^,]+,,yes\r\n/, 'the admin made by the test above');
    const file = path.join(dataDir, 'members.csv');
    const written = await runCli(['org', 'export', '--id', '1', '--out', file], env);
    assert.equal(written.code, 0, written.stderr);
    assert.equal(readFileSync(file, 'utf8'), printed.stdout);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(written.stderr, /members of organization 1 written to/);
    const missing = await runCli(['org', 'export', '--id', '999'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /ORGANIZATION_NOT_FOUND/);
  });

  it('user delete removes an account only with --yes; an unknown phone exits 1', async () => {
    const created = await runCli(['admin', 'create', '--phone', '13811115555', '--name', 'Leaving', '--json'], env);
    assert.equal(created.code, 0, created.stderr);
    const id = JSON.parse(created.stdout).user.id as number;
    const unconfirmed = await runCli(['user', 'delete', '--phone', '13811115555'], env);
    assert.equal(unconfirmed.code, 2);
    assert.match(unconfirmed.stderr, /--yes/);
    const deleted = await runCli(['user', 'delete', '--phone', '138 1111 5555', '--yes', '--json'], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual(JSON.parse(deleted.stdout), { deleted: true, id });
    const again = await runCli(['user', 'delete', '--phone', '13811115555', '--yes'], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /NOT_FOUND/);
    const recreated = await runCli(['admin', 'create', '--phone', '13811115555', '--name', 'Back', '--json'], env);
    assert.equal(recreated.code, 0, 'the phone number can be used again');
  });

  it("user set-role makes an account an organization administrator or a user; a role it does not know exits 2", async () => {
    const created = await runCli(['admin', 'create', '--phone', '13811116666', '--name', 'Head', '--json'], env);
    assert.equal(created.code, 0, created.stderr);
    const id = JSON.parse(created.stdout).user.id as number;
    const orgAdmin = await runCli(['user', 'set-role', '--phone', '13811116666', '--role', 'org_admin', '--json'], env);
    assert.equal(orgAdmin.code, 0, orgAdmin.stderr);
    assert.deepEqual(JSON.parse(orgAdmin.stdout), { id, role: 'org_admin' });
    const user = await runCli(['user', 'set-role', '--phone', '13811116666', '--role', 'user', '--json'], env);
    assert.deepEqual(JSON.parse(user.stdout), { id, role: 'user' });
    const unknown = await runCli(['user', 'set-role', '--phone', '13811116666', '--role', 'owner'], env);
    assert.equal(unknown.code, 2);
  });

  it('org delete removes an organization without members, only with --yes; one with members exits 1', async () => {
    const created = JSON.parse((await runCli(['org', 'create', '--name', 'Mistake', '--json'], env)).stdout);
    assert.equal((await runCli(['org', 'delete', '--id', String(created.id)], env)).code, 2, '--yes is needed');
    const deleted = await runCli(['org', 'delete', '--id', String(created.id), '--yes', '--json'], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual(JSON.parse(deleted.stdout), { deleted: true, id: created.id });
    const listed = JSON.parse((await runCli(['org', 'list', '--json'], env)).stdout);
    assert.equal(listed.some((o: { id: number }) => o.id === created.id), false);
    const withMembers = await runCli(['org', 'delete', '--id', '1', '--yes'], env);
    assert.equal(withMembers.code, 1);
    assert.match(withMembers.stderr, /ORGANIZATION_NOT_EMPTY/);
  });

  it("invite set changes a code's quota and expiry in place (none and never lift them); bad flags exit 2, a dead code 1", async () => {
    const created = JSON.parse((await runCli(['org', 'create', '--name', 'Workshop', '--max-uses', '30', '--json'], env)).stdout);
    const code: string = created.invitation_code;
    const raised = await runCli(['invite', 'set', '--code', code.toLowerCase(), '--max-uses', '45', '--expires-in-days', '2'], env);
    assert.equal(raised.code, 0, raised.stderr);
    assert.match(raised.stdout, new RegExp(`^invitation code ${code}: 0 used of 45, expires ${new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10)}`));
    const lifted = JSON.parse((await runCli(['invite', 'set', '--code', code, '--max-uses', 'none', '--expires-in-days', 'never', '--json'], env)).stdout);
    assert.deepEqual([lifted.invitation_code, lifted.max_uses, lifted.expires_at], [code, null, null]);
    for (const flags of [[], ['--max-uses', '0'], ['--max-uses', 'never'], ['--expires-in-days', 'none'], ['--expires-in-days', '1.5']]) {
      const res = await runCli(['invite', 'set', '--code', code, ...flags], env);
      assert.equal(res.code, 2, flags.join(' '));
    }
    await runCli(['invite', 'revoke', '--code', code], env);
    const dead = await runCli(['invite', 'set', '--code', code, '--max-uses', '10'], env);
    assert.equal(dead.code, 1);
    assert.match(dead.stderr, /NOT_FOUND/);
  });

  it('apikey create prints the key once; list never shows it; revoke by prefix', async () => {
    const created = await runCli(['apikey', 'create', '--name', 'sync', '--scopes', 'tasks:write,tasks:read', '--json'], env);
    assert.equal(created.code, 0, created.stderr);
    const { key, api_key } = JSON.parse(created.stdout);
    assert.match(key, /^gth_/);
    assert.deepEqual(api_key.scopes, ['tasks:write', 'tasks:read']);
    const listed = await runCli(['apikey', 'list', '--json'], env);
    assert.ok(!listed.stdout.includes(key.slice(13)), 'the secret never appears in a list');
    assert.ok(JSON.parse(listed.stdout).api_keys.some((k: { prefix: string; revoked_at: string | null }) => k.prefix === api_key.prefix && k.revoked_at === null));
    const badScope = await runCli(['apikey', 'create', '--name', 'x', '--scopes', 'root'], env);
    assert.equal(badScope.code, 1);
    assert.match(badScope.stderr, /VALIDATION_FAILED: scopes must be/);
    const revoked = await runCli(['apikey', 'revoke', '--prefix', api_key.prefix, '--json'], env);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.ok(JSON.parse(revoked.stdout).api_key.revoked_at);
    const again = await runCli(['apikey', 'revoke', '--prefix', api_key.prefix], env);
    assert.equal(again.code, 2);
  });

  it('a bad configuration stops with a clear message and exit code 2', async () => {
    const res = await runCli(['migrate'], { ...env, PORT: 'nope' });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /configuration error: PORT must be a whole number/);
  });
});
