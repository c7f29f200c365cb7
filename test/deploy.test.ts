// The deployment files parse, and what they name exists: probes on the real endpoints, variables that
// config.ts reads, metrics the service defines. (No Docker engine or Kubernetes runs here: this is
// a structural check plus `docker-compose config`, not a cluster dry run.)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../src/config.js';
import { createMetrics, createPrimaryMetrics } from '../src/observability/metrics.js';

const read = (file: string) => readFileSync(new URL(`../deploy/${file}`, import.meta.url), 'utf8');
const configSource = readFileSync(new URL('../src/config.ts', import.meta.url), 'utf8');

function assertConfigVariable(name: string) {
  assert.ok(configSource.includes(`'${name}'`) || configSource.includes(`.${name}`), `config.ts does not read ${name}`);
}

it('docker-compose.yml: two servers on PostgreSQL and Redis behind nginx, with health checks on /readyz', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true });
  for (const service of ['gatehouse-1', 'gatehouse-2', 'nginx', 'postgres', 'redis', 'prometheus', 'grafana']) assert.ok(compose.services[service], service);
  const server = compose.services['gatehouse-1'];
  assert.match(server.environment.DATABASE_URL, /^postgres:\/\//);
  assert.match(server.environment.REDIS_URL, /^redis:\/\//);
  for (const name of Object.keys(server.environment)) assertConfigVariable(name);
  // The values pass the service's own validation (the secret comes from the operator).
  assert.doesNotThrow(() => loadConfig({ ...server.environment, SECRET_KEY: 's'.repeat(40) }, {}));
  assert.match(server.healthcheck.test.join(' '), /\/readyz/);
  const nginx = read('nginx.compose.conf');
  assert.match(nginx, /server gatehouse-1:9527;/);
  assert.match(nginx, /server gatehouse-2:9527;/);
});

it('Kubernetes: Deployment with probes on /healthz and /readyz, Service, PodDisruptionBudget, HPA', () => {
  const docs = parseAllDocuments(read('k8s/gatehouse.yaml')).map((d) => d.toJS());
  const kinds = docs.map((d) => d.kind).sort();
  assert.deepEqual(kinds, ['Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Service']);
  const deployment = docs.find((d) => d.kind === 'Deployment');
  const container = deployment.spec.template.spec.containers[0];
  assert.equal(container.livenessProbe.httpGet.path, '/healthz');
  assert.equal(container.readinessProbe.httpGet.path, '/readyz');
  for (const { name } of container.env) assertConfigVariable(name);
  const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
  assert.doesNotThrow(() => loadConfig({ ...env, DATABASE_URL: 'postgres://u@db/gatehouse', REDIS_URL: 'redis://r:6379', SECRET_KEY: 's'.repeat(40) }, {}));
  const labels = deployment.spec.template.metadata.labels;
  for (const doc of docs.filter((d) => d.kind !== 'Deployment' && d.kind !== 'HorizontalPodAutoscaler')) {
    const selector = doc.spec.selector.matchLabels ?? doc.spec.selector;
    assert.deepEqual(selector, labels, `${doc.kind} selects the Deployment's pods`);
  }
});

/** Every metric the service can define: the read replica's and the data directory's exist only where they apply. */
async function definedMetrics(): Promise<Set<string>> {
  const metrics = createMetrics();
  metrics.watchReplica(() => ({ state: 'ok', lagSeconds: 0, reads: { replica: 0, primary: 0 } }));
  metrics.watchDataDir('.');
  const registries = [metrics.registry, createPrimaryMetrics().registry];
  return new Set((await Promise.all(registries.map((r) => r.getMetricsAsJSON()))).flat().map((m) => m.name));
}

it('Prometheus alert rules: well-formed, loaded by prometheus.yml, on metrics the service defines', async () => {
  assert.deepEqual(parse(read('prometheus/prometheus.yml')).rule_files, ['alerts.yml']);
  const rules = parse(read('prometheus/alerts.yml')).groups.flatMap((g: { rules: unknown[] }) => g.rules) as Array<{ alert: string; expr: string; labels: { severity: string }; annotations: { summary: string } }>;
  assert.ok(rules.length >= 5);
  const defined = await definedMetrics();
  for (const rule of rules) {
    assert.match(rule.alert, /^Gatehouse[A-Za-z]+$/);
    assert.ok(['page', 'ticket'].includes(rule.labels.severity), rule.alert);
    assert.ok(rule.annotations.summary, rule.alert);
    for (const match of rule.expr.matchAll(/gatehouse_[a-z_]+/g)) assert.ok(defined.has(match[0]), `${rule.alert} uses ${match[0]}, which the service does not define`);
  }
});

const noPromtool = (() => {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'promtool is not installed (Debian: apt-get install prometheus; .ci/run installs it)';
  }
})();

it('promtool accepts the Prometheus configuration and its alert rules', { skip: noPromtool }, () => {
  const dir = new URL('../deploy/prometheus/', import.meta.url).pathname;
  assert.match(execFileSync('promtool', ['check', 'config', 'prometheus.yml'], { cwd: dir, encoding: 'utf8' }), /SUCCESS/);
  assert.match(execFileSync('promtool', ['check', 'rules', 'alerts.yml'], { cwd: dir, encoding: 'utf8' }), /SUCCESS: \d+ rules found/);
});

it('the Grafana dashboard queries only metrics the service defines', async () => {
  const dashboard = JSON.parse(read('grafana/gatehouse-dashboard.json'));
  const defined = await definedMetrics();
  const used = new Set<string>();
  for (const panel of dashboard.panels) for (const target of panel.targets) for (const match of target.expr.matchAll(/gatehouse_[a-z_]+/g)) used.add(match[0].replace(/_(bucket|count|sum)$/, ''));
  assert.ok(used.size >= 10);
  for (const name of used) assert.ok(defined.has(name), `the dashboard uses ${name}, which src/observability/metrics.ts does not define`);
});

it('docker-compose config accepts the compose file (Debian\'s docker-compose; .ci/run installs it)', () => {
  const out = execFileSync('docker-compose', ['-f', 'deploy/docker-compose.yml', 'config', '--quiet'], {
    cwd: new URL('..', import.meta.url),
    env: { ...process.env, GATEHOUSE_SECRET_KEY: 's'.repeat(40) },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  assert.equal(out.trim(), '');
});
