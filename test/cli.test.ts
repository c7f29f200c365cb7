import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { mapConcurrent, runCli } from './helpers/cluster.js';

describe('gatehouse CLI', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-cli-'));
  const env = { DATA_DIR: dataDir };
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('every command has --help; an unknown command exits 2 with the usage', async () => {
    const commands = [['serve'], ['worker'], ['migrate'], ['org', 'create'], ['org', 'list'], ['org', 'set'], ['org', 'export'], ['org', 'delete'], ['admin', 'create'], ['apikey', 'create'], ['apikey', 'list'], ['apikey', 'revoke'], ['invite', 'create'], ['invite', 'set'], ['invite', 'revoke'], ['invite', 'rotate'], ['limits', 'show'], ['limits', 'reset'], ['user', 'unlock'], ['user', 'reset-2fa'], ['user', 'set-role'], ['user', 'delete'], ['clients', 'create'], ['clients', 'list'], ['clients', 'show'], ['clients', 'set'], ['clients', 'rotate-secret'], ['clients', 'disable'], ['clients', 'enable'], ['clients', 'delete'], ['forward-auth', 'set'], ['forward-auth', 'list'], ['forward-auth', 'remove'], ['providers', 'set'], ['providers', 'list'], ['providers', 'disable'], ['providers', 'enable']];
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
    assert.deepEqual(JSON.parse(migrated.stdout), { applied: ['001_initial', '002_tasks_keys_audit', '003_sms_imports', '004_user_invitation', '005_roster_exports', '006_audit_by_subject', '007_two_factor', '008_instance_settings', '009_task_request_id', '010_sms_hardening', '012_admin_sessions', '013_import_progress', '014_single_sign_on', '015_sign_in_providers', '016_federated_sign_in', '017_passkeys'] });

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

  it('clients create registers an app and prints its secret once; list and show never print it; the stored hash is its SHA-256', async () => {
    const created = await runCli(['clients', 'create', '--name', 'Grafana', '--redirect-uri', 'https://grafana.school.example/login/generic_oauth', '--redirect-uri', 'http://localhost:3000/login/generic_oauth', '--post-logout-redirect-uri', 'https://grafana.school.example/', '--first-party', '--organization', '1', '--role', 'admin', '--role', 'org_admin', '--json'], env);
    assert.equal(created.code, 0, created.stderr);
    const app = JSON.parse(created.stdout);
    assert.match(app.client_id, /^gtc_[a-z2-7]{24}$/);
    assert.match(app.client_secret, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual([app.type, app.first_party, app.status], ['confidential', true, 'active']);
    assert.deepEqual(app.redirect_uris, ['https://grafana.school.example/login/generic_oauth', 'http://localhost:3000/login/generic_oauth']);
    assert.deepEqual(app.post_logout_redirect_uris, ['https://grafana.school.example/']);
    assert.deepEqual([app.allowed_organization_ids, app.allowed_roles], [[1], ['org_admin', 'admin']]);
    assert.equal(app.created_by, 'cli');
    const database = new Database(path.join(dataDir, 'gatehouse.sqlite'), { readonly: true });
    try {
      const row = database.prepare('SELECT secret_hash FROM oidc_clients WHERE client_id = ?').get(app.client_id) as { secret_hash: string };
      assert.equal(row.secret_hash, createHash('sha256').update(app.client_secret).digest('hex'));
      const audited = database.prepare('SELECT event, actor, detail FROM audit_events WHERE target = ?').all(`oidc_client:${app.client_id}`) as Array<{ event: string; actor: string; detail: string }>;
      assert.deepEqual(audited.map((e) => [e.event, e.actor]), [['oidc_client.created', 'cli']]);
      assert.ok(!audited[0]!.detail.includes(app.client_secret));
    } finally {
      database.close();
    }

    const listed = await runCli(['clients', 'list', '--json'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(JSON.parse(listed.stdout).clients.some((c: { client_id: string }) => c.client_id === app.client_id));
    const shown = await runCli(['clients', 'show', app.client_id, '--json'], env);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(JSON.parse(shown.stdout).name, 'Grafana');
    const text = await runCli(['clients', 'show', app.client_id], env);
    assert.match(text.stdout, /^client_id: gtc_/);
    for (const out of [listed.stdout, shown.stdout, text.stdout, (await runCli(['clients', 'list'], env)).stdout]) assert.ok(!out.includes(app.client_secret), 'the secret is never shown again');

    const publicApp = JSON.parse((await runCli(['clients', 'create', '--name', 'Timetable', '--redirect-uri', 'http://127.0.0.1:5173/cb', '--public', '--json'], env)).stdout);
    assert.equal(publicApp.client_secret, undefined, 'a public client has no secret');
    assert.deepEqual(publicApp.grant_types, ['authorization_code', 'refresh_token']);
  });

  it('clients create refuses bad redirect URIs, roles and organizations with their codes (exit 1) and bad flags with its usage (exit 2)', async () => {
    const refusals: Array<[string[], RegExp]> = [
      [['--redirect-uri', 'http://grafana.school.example/cb'], /INVALID_REDIRECT_URI: The redirect URI "http:\/\/grafana\.school\.example\/cb" uses http/],
      [['--redirect-uri', 'https://grafana.school.example/cb#x'], /INVALID_REDIRECT_URI: .*fragment/],
      [['--redirect-uri', 'https://grafana.school.example/cb', '--post-logout-redirect-uri', 'ftp://x.example/'], /INVALID_REDIRECT_URI: The post-logout redirect URI/],
      [[], /INVALID_REDIRECT_URI: At least one redirect URI/],
      [['--redirect-uri', 'https://grafana.school.example/cb', '--role', 'teacher'], /VALIDATION_FAILED: allowed roles must be/],
      [['--redirect-uri', 'https://grafana.school.example/cb', '--organization', '999'], /ORGANIZATION_NOT_FOUND: No organization 999/],
      [['--redirect-uri', 'https://grafana.school.example/cb', '--public', '--grant-type', 'client_credentials'], /INVALID_CLIENT_METADATA/],
    ];
    for (const [flags, message] of refusals) {
      const res = await runCli(['clients', 'create', '--name', 'Refused', ...flags], env);
      assert.equal(res.code, 1, `${flags.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, message);
    }
    const machine = await runCli(['clients', 'create', '--name', 'Nightly sync', '--grant-type', 'client_credentials', '--json'], env);
    assert.equal(machine.code, 0, machine.stderr);
    assert.deepEqual(JSON.parse(machine.stdout).redirect_uris, []);
    assert.equal((await runCli(['clients', 'create', '--redirect-uri', 'https://a.example/cb'], env)).code, 2, 'no --name');
    assert.equal((await runCli(['clients', 'create', '--name', 'x', '--organization', 'one'], env)).code, 2, 'not an id');
    assert.equal((await runCli(['clients', 'show'], env)).code, 2, 'no CLIENT_ID');
    assert.equal((await runCli(['clients', 'show', 'a', 'b'], env)).code, 2, 'two of them');
    const listed = JSON.parse((await runCli(['clients', 'list', '--json'], env)).stdout);
    assert.equal(listed.clients.some((c: { name: string }) => c.name === 'Refused'), false, 'nothing refused was stored');
  });

  it('clients set, rotate-secret, disable, enable and delete act on one app by its id; an unknown id exits 1 with CLIENT_NOT_FOUND', async () => {
    const app = JSON.parse((await runCli(['clients', 'create', '--name', 'Moodle', '--redirect-uri', 'https://moodle.school.example/admin/oauth2callback.php', '--role', 'user', '--json'], env)).stdout);
    const set = await runCli(['clients', 'set', app.client_id, '--name', 'Moodle 4', '--backchannel-logout-uri', 'https://moodle.school.example/logout', '--role', 'all', '--first-party', 'yes', '--json'], env);
    assert.equal(set.code, 0, set.stderr);
    const changed = JSON.parse(set.stdout);
    assert.deepEqual([changed.name, changed.backchannel_logout_uri, changed.allowed_roles, changed.first_party], ['Moodle 4', 'https://moodle.school.example/logout', null, true]);
    assert.equal((await runCli(['clients', 'set', app.client_id], env)).code, 2, 'nothing to change');
    assert.equal((await runCli(['clients', 'set', app.client_id, '--first-party', 'maybe'], env)).code, 2);

    const rotated = await runCli(['clients', 'rotate-secret', app.client_id, '--json'], env);
    assert.equal(rotated.code, 0, rotated.stderr);
    const secret = JSON.parse(rotated.stdout).client_secret as string;
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(secret, app.client_secret);

    const disabled = await runCli(['clients', 'disable', app.client_id, '--json'], env);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.equal(JSON.parse(disabled.stdout).status, 'disabled');
    assert.match((await runCli(['clients', 'enable', app.client_id], env)).stdout, /enabled/);
    assert.equal(JSON.parse((await runCli(['clients', 'show', app.client_id, '--json'], env)).stdout).status, 'active');

    assert.equal((await runCli(['clients', 'delete', app.client_id], env)).code, 2, '--yes is needed');
    const deleted = await runCli(['clients', 'delete', app.client_id, '--yes', '--json'], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual(JSON.parse(deleted.stdout), { deleted: true, client_id: app.client_id });
    for (const command of [['show'], ['rotate-secret'], ['disable'], ['enable'], ['delete', '--yes'], ['set', '--name', 'x']]) {
      const [verb, ...flags] = command;
      const res = await runCli(['clients', verb!, app.client_id, ...flags], env);
      assert.equal(res.code, 1, `${command.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, /CLIENT_NOT_FOUND/);
    }
    const database = new Database(path.join(dataDir, 'gatehouse.sqlite'), { readonly: true });
    try {
      const events = database.prepare('SELECT event FROM audit_events WHERE target = ? ORDER BY id').all(`oidc_client:${app.client_id}`) as Array<{ event: string }>;
      assert.deepEqual(events.map((e) => e.event), ['oidc_client.created', 'oidc_client.updated', 'oidc_client.secret_rotated', 'oidc_client.disabled', 'oidc_client.enabled', 'oidc_client.deleted']);
    } finally {
      database.close();
    }
  });

  it('providers set seals the app secret (never printed or audited), list shows every provider without it, disable and enable toggle one; bad settings exit 1 with their code', async () => {
    const secret = 'wecom-secret-0123456789';
    const set = await runCli(['providers', 'set', 'wecom', '--app-id', 'ww-corp-1', '--app-secret', secret, '--api-url', 'http://127.0.0.1:8088', '--extra', 'agent_id=1000002', '--organization', '1', '--json'], env);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stderr, '', 'nothing on stderr: the command loads neither Fastify nor the OpenID Connect provider');
    const provider = JSON.parse(set.stdout).provider;
    assert.deepEqual([provider.name, provider.enabled, provider.app_id, provider.app_secret_set, provider.api_url, provider.extra, provider.bound_organization_id], ['wecom', true, 'ww-corp-1', true, 'http://127.0.0.1:8088', { agent_id: '1000002' }, 1]);
    assert.ok(!set.stdout.includes(secret));

    const fromStdin = await runCli(['providers', 'set', 'dingtalk', '--app-id', 'dingabc', '--app-secret-stdin', '--json'], env, 'ding-secret-from-stdin\n');
    assert.equal(fromStdin.code, 0, fromStdin.stderr);

    const listed = await runCli(['providers', 'list', '--json'], env);
    assert.equal(listed.code, 0, listed.stderr);
    const providers = JSON.parse(listed.stdout).providers as Array<{ name: string; configured: boolean; enabled: boolean }>;
    assert.deepEqual(providers.map((p) => [p.name, p.configured, p.enabled]), [['wechat', false, false], ['wechat_mp', false, false], ['wecom', true, true], ['dingtalk', true, true], ['feishu', false, false], ['oidc', false, false]]);
    const text = await runCli(['providers', 'list'], env);
    assert.match(text.stdout, /^wecom\tenabled\tapp id ww-corp-1/m);
    for (const out of [listed.stdout, text.stdout]) assert.ok(!out.includes(secret) && !out.includes('ding-secret-from-stdin'), 'secrets are never printed');

    const disabled = await runCli(['providers', 'disable', 'wecom', '--json'], env);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.equal(JSON.parse(disabled.stdout).provider.enabled, false);
    assert.equal(JSON.parse((await runCli(['providers', 'enable', 'wecom', '--json'], env)).stdout).provider.enabled, true);

    const database = new Database(path.join(dataDir, 'gatehouse.sqlite'), { readonly: true });
    try {
      const stored = JSON.stringify(database.prepare("SELECT * FROM sign_in_providers").all());
      assert.ok(!stored.includes(secret) && !stored.includes('ding-secret-from-stdin'), 'the secrets are stored sealed');
      const audited = database.prepare("SELECT event, actor, detail FROM audit_events WHERE target = 'sign_in_provider:wecom' ORDER BY id").all() as Array<{ event: string; actor: string; detail: string | null }>;
      assert.deepEqual(audited.map((e) => [e.event, e.actor]), [['sign_in_provider.set', 'cli'], ['sign_in_provider.disabled', 'cli'], ['sign_in_provider.enabled', 'cli']]);
      assert.ok(!JSON.stringify(audited).includes(secret));
    } finally {
      database.close();
    }

    const unknown = await runCli(['providers', 'set', 'qq', '--app-id', 'x', '--app-secret', 'y'], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /SIGN_IN_PROVIDER_NOT_FOUND/);
    const badUrl = await runCli(['providers', 'set', 'feishu', '--app-id', 'cli_a', '--app-secret', 'y', '--authorize-url', 'http://open.feishu.cn'], env);
    assert.equal(badUrl.code, 1);
    assert.match(badUrl.stderr, /INVALID_SIGN_IN_PROVIDER_SETTINGS/);
    const notSetUp = await runCli(['providers', 'disable', 'feishu'], env);
    assert.equal(notSetUp.code, 1);
    assert.match(notSetUp.stderr, /SIGN_IN_PROVIDER_NOT_FOUND/);
    const noAppId = await runCli(['providers', 'set', 'feishu', '--app-secret', 'y'], env);
    assert.equal(noAppId.code, 2);
    assert.match(noAppId.stderr, /--app-id is required/);
    const badExtra = await runCli(['providers', 'set', 'wecom', '--app-id', 'x', '--extra', 'agent_id'], env);
    assert.equal(badExtra.code, 2);
  });

  it('a bad configuration stops with a clear message and exit code 2', async () => {
    const res = await runCli(['migrate'], { ...env, PORT: 'nope' });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /configuration error: PORT must be a whole number/);
  });
});
