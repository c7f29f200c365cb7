// The deployment files parse, and what they name exists: probes on the real endpoints, variables that
// config.ts reads, metrics the service defines. (No Docker engine or Kubernetes runs here: this is
// a structural check plus `docker-compose config`, not a cluster dry run.)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { createMetrics, createPrimaryMetrics } from '../src/observability/metrics.js';
import { REQUEST_ID_FIELD, REQUEST_ID_PATTERN } from '../src/observability/request-context.js';
import { unmet } from './helpers/requirements.js';

const read = (file: string) => readFileSync(new URL(`../deploy/${file}`, import.meta.url), 'utf8');
const configSource = readFileSync(new URL('../src/config.ts', import.meta.url), 'utf8');

/** The ENV lines of the Dockerfile: what every container starts with. */
function dockerfileEnv(): Record<string, string> {
  const lines = read('Dockerfile').split('\n').filter((l) => l.startsWith('ENV '));
  return Object.fromEntries(lines.flatMap((l) => l.slice(4).trim().split(/\s+/).map((pair) => pair.split('=') as [string, string])));
}

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
  // The values pass the service's own validation, over the image's own environment (the secret comes from the operator).
  assert.doesNotThrow(() => loadConfig({ ...dockerfileEnv(), ...server.environment, SECRET_KEY: 's'.repeat(40) }, {}));
  assert.match(server.healthcheck.test.join(' '), /\/readyz/);
  // Prometheus scrapes the servers' metrics port, which nginx does not forward.
  const targets = parse(read('prometheus/prometheus.yml')).scrape_configs.find((c: { job_name: string }) => c.job_name === 'gatehouse').static_configs[0].targets;
  assert.deepEqual(targets, ['gatehouse-1', 'gatehouse-2'].map((name) => `${name}:${server.environment.METRICS_PORT}`));
  const nginx = read('nginx.compose.conf');
  assert.doesNotMatch(nginx, new RegExp(`:${server.environment.METRICS_PORT}\\b`));
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
  // With what the Secret holds (URLs, key, an SMS provider: production refuses the console one).
  const secret = { DATABASE_URL: 'postgres://u@db/gatehouse', REDIS_URL: 'redis://r:6379', SECRET_KEY: 's'.repeat(40), SMS_PROVIDER: 'webhook', SMS_WEBHOOK_URL: 'https://sms.example/send', SMS_WEBHOOK_SECRET: 'w'.repeat(20) };
  assert.doesNotThrow(() => loadConfig({ ...dockerfileEnv(), ...env, ...secret }, {}));
  assert.throws(() => loadConfig({ ...dockerfileEnv(), ...env, ...secret, SMS_PROVIDER: 'console' }, {}), /SMS_PROVIDER=console/);
  // The scrape annotations name the metrics port, which the pod declares and the Service does not forward.
  const annotations = deployment.spec.template.metadata.annotations;
  assert.equal(annotations['prometheus.io/port'], env.METRICS_PORT);
  assert.equal(annotations['prometheus.io/path'], '/metrics');
  assert.ok(container.ports.some((p: { containerPort: number }) => String(p.containerPort) === env.METRICS_PORT));
  const service = docs.find((d) => d.kind === 'Service');
  assert.ok(service.spec.ports.every((p: { targetPort: string }) => p.targetPort === 'http'));
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



it('promtool accepts the Prometheus configuration and its alert rules', { skip: await unmet('promtool') }, () => {
  const dir = new URL('../deploy/prometheus/', import.meta.url).pathname;
  assert.match(execFileSync('promtool', ['check', 'config', 'prometheus.yml'], { cwd: dir, encoding: 'utf8' }), /SUCCESS/);
  assert.match(execFileSync('promtool', ['check', 'rules', 'alerts.yml'], { cwd: dir, encoding: 'utf8' }), /SUCCESS: \d+ rules found/);
});

it('the Grafana dashboard queries only metrics the service defines', async () => {
  const dashboard = JSON.parse(read('grafana/gatehouse-dashboard.json'));
  const defined = await definedMetrics();
  const used = new Set<string>();
  for (const panel of dashboard.panels.filter(isPrometheusPanel)) for (const target of panel.targets) for (const match of target.expr.matchAll(/gatehouse_[a-z_]+/g)) used.add(match[0].replace(/_(bucket|count|sum)$/, ''));
  assert.ok(used.size >= 10);
  for (const name of used) assert.ok(defined.has(name), `the dashboard uses ${name}, which src/observability/metrics.ts does not define`);
});

it('docker-compose config accepts the compose file', { skip: await unmet('docker-compose') }, () => {
  const out = execFileSync('docker-compose', ['-f', 'deploy/docker-compose.yml', 'config', '--quiet'], {
    cwd: new URL('..', import.meta.url),
    env: { ...process.env, GATEHOUSE_SECRET_KEY: 's'.repeat(40) },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  assert.equal(out.trim(), '');
});

// Logs: Grafana Alloy reads every container's (or pod's) output and sends it to Loki; Grafana has Loki
// beside Prometheus; the dashboard's log panels query labels that the collector sets. No Alloy or Loki
// binary runs here (neither is packaged for npm or Debian): these are structural checks of the wiring.

interface DashboardPanel {
  title: string;
  type: string;
  datasource: { type: string; uid: string };
  targets: Array<{ expr: string; datasource: { type: string; uid: string } }>;
}
const isPrometheusPanel = (panel: DashboardPanel) => panel.datasource.type === 'prometheus';

/** What an Alloy configuration declares, refers to and sets, read from its text. */
function readAlloy(text: string) {
  let depth = 0;
  for (const char of text.replace(/"(?:[^"\\]|\\.)*"|`[^`]*`|\/\/.*$/gm, '')) {
    depth += char === '{' ? 1 : char === '}' ? -1 : 0;
    assert.ok(depth >= 0, 'a closing brace without its opening one');
  }
  assert.equal(depth, 0, 'every brace is closed');
  const declared = new Set([...text.matchAll(/^([a-z_]+(?:\.[a-z_]+)+) "([a-z_]+)" \{/gm)].map((m) => `${m[1]}.${m[2]}`));
  const referenced = new Set([...text.matchAll(/\b((?:discovery|loki|local)\.[a-z_]+\.[a-z_]+)\.(?:receiver|targets|rules|output)\b/g)].map((m) => m[1]!));
  const keysOf = (block: string) => {
    const body = new RegExp(`${block.replace('.', '\\.')} \\{\\s*(?:values|expressions) = \\{([^}]*)\\}`).exec(text)?.[1] ?? '';
    return new Set([...body.matchAll(/(\w+) = ""/g)].map((m) => m[1]!));
  };
  const relabelled = [...text.matchAll(/target_label\s*=\s*"(\w+)"/g)].map((m) => m[1]!).filter((l) => !l.startsWith('__'));
  return {
    declared,
    referenced,
    labels: new Set([...relabelled, ...keysOf('stage.labels')]),
    jsonFields: keysOf('stage.json'),
    metadata: keysOf('stage.structured_metadata'),
    pushUrl: /loki\.write "\w+" \{\s*endpoint \{\s*url\s*=\s*"([^"]+)"/.exec(text)?.[1],
    matchSelector: /stage\.match \{\s*selector = "((?:[^"\\]|\\.)*)"/.exec(text)?.[1]?.replace(/\\"/g, '"'),
    text,
  };
}

const k8sLogs = () => parseAllDocuments(read('k8s/logs.yaml')).map((d) => d.toJS());
const alloyConfigs = () => ({
  compose: readAlloy(read('alloy/docker.alloy')),
  kubernetes: readAlloy(k8sLogs().find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'alloy').data['config.alloy']),
});

it('Alloy: both collectors are wired (every component referred to exists), parse the JSON fields and label lines alike', () => {
  const configs = alloyConfigs();
  for (const [where, alloy] of Object.entries(configs)) {
    for (const name of alloy.referenced) assert.ok(alloy.declared.has(name), `${where}: ${name} is referred to but not declared`);
    for (const field of ['level', 'role', 'worker', REQUEST_ID_FIELD, 'task', 'time']) assert.ok(alloy.jsonFields.has(field), `${where}: the JSON field ${field} is not read`);
    assert.deepEqual([...alloy.metadata].sort(), [REQUEST_ID_FIELD, 'task'].sort(), `${where}: request and task ids are metadata, not labels (one stream each)`);
    for (const label of ['app', 'instance', 'level', 'role', 'worker']) assert.ok(alloy.labels.has(label), `${where}: sets no ${label} label`);
    assert.ok(!alloy.labels.has(REQUEST_ID_FIELD), `${where}: reqId must not be a label`);
    // Nothing is filtered out: every container's (pod's) lines reach Loki.
    assert.doesNotMatch(alloy.text, /stage\.drop|action\s*=\s*"(drop|keep)"|\bfilter \{/, `${where}: drops lines`);
    // pino writes numeric levels; the label carries pino's own names for them.
    for (const [name, value] of Object.entries(pino.levels.values)) assert.ok(alloy.text.includes(`eq .Value "${value}" }}${name}`), `${where}: level ${value} is not labelled ${name}`);
    // The stages apply to the lines the pipeline's selector picks by labels the collector sets.
    for (const label of labelsIn(alloy.matchSelector!)) assert.ok(alloy.labels.has(label), `${where}: the match selector uses ${label}, which is never set`);
  }
  // The same processing on both: the dashboard works on either.
  const stages = (text: string) => text.slice(text.indexOf('stage.match'), text.indexOf('loki.write'));
  assert.equal(stages(configs.kubernetes.text), stages(configs.compose.text));
});

/** The label names a LogQL query selects on or groups by. */
function labelsIn(query: string): Set<string> {
  const labels = new Set<string>();
  for (const selector of query.matchAll(/\{([^}]*)\}/g)) for (const m of selector[1]!.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)) labels.add(m[1]!);
  for (const by of query.matchAll(/\bby \(([^)]*)\)/g)) for (const label of by[1]!.split(',')) labels.add(label.trim());
  return labels;
}

it('docker-compose.yml: Loki and Alloy beside Prometheus; Alloy reads every container through the Docker engine; Grafana has both data sources', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true });
  for (const [name, service] of Object.entries<any>(compose.services)) {
    // Images pinned like the rest (a build is pinned by the lock file).
    if (service.image) assert.match(service.image, /:v?\d+(\.\d+)*$/, `${name}: ${service.image} is not pinned to a version`);
    // The Docker API serves logs only for these drivers.
    assert.ok(!service.logging || ['json-file', 'local', 'journald'].includes(service.logging.driver), `${name}: its log driver hides its logs from Alloy`);
  }
  const alloy = compose.services.alloy;
  assert.ok(alloy.volumes.includes('./alloy/docker.alloy:/etc/alloy/config.alloy:ro'));
  assert.ok(alloy.volumes.some((v: string) => v.startsWith('/var/run/docker.sock:/var/run/docker.sock')));
  assert.equal(alloy.command.at(-1), '/etc/alloy/config.alloy');
  const { compose: config } = alloyConfigs();
  assert.match(config.text, /host\s*=\s*"unix:\/\/\/var\/run\/docker.sock"/);
  const lokiPort = parse(read('loki/loki.yml')).server.http_listen_port;
  assert.equal(config.pushUrl, `http://loki:${lokiPort}/loki/api/v1/push`);
  assert.ok(compose.services.loki.volumes.includes('./loki/loki.yml:/etc/loki/loki.yml:ro'));
  assert.deepEqual(compose.services.loki.command, ['-config.file=/etc/loki/loki.yml']);
  // The servers and nginx carry the app label that the dashboard selects on.
  for (const name of ['gatehouse-1', 'gatehouse-2']) assert.equal(compose.services[name].labels.app, 'gatehouse');
  assert.equal(compose.services.nginx.labels.app, 'nginx');
  const sources = parse(read('grafana/datasource.yml')).datasources as Array<{ uid: string; type: string; url: string }>;
  assert.equal(sources.find((d) => d.type === 'loki')?.url, `http://loki:${lokiPort}`);
  assert.equal(sources.find((d) => d.type === 'prometheus')?.url, 'http://prometheus:9090');
  assert.ok(compose.services.grafana.volumes.some((v: string) => v.startsWith('./grafana/datasource.yml:/etc/grafana/provisioning/datasources/')));
});

it('the Grafana dashboard: a logs panel and lines by level on Loki, filtered by level and request id, on labels the collectors set', () => {
  const dashboard = JSON.parse(read('grafana/gatehouse-dashboard.json'));
  const sources = parse(read('grafana/datasource.yml')).datasources as Array<{ uid: string; type: string }>;
  const uidOf = (type: string) => sources.find((d) => d.type === type)!.uid;
  for (const panel of dashboard.panels as DashboardPanel[]) {
    assert.equal(panel.datasource.uid, uidOf(panel.datasource.type), `${panel.title}: no data source with uid ${panel.datasource.uid}`);
    for (const target of panel.targets) assert.equal(target.datasource.uid, panel.datasource.uid, panel.title);
  }
  const lokiPanels = (dashboard.panels as DashboardPanel[]).filter((p) => p.datasource.type === 'loki');
  assert.ok(lokiPanels.some((p) => p.type === 'logs'), 'a logs panel');
  assert.ok(lokiPanels.some((p) => p.type === 'timeseries' && p.targets.some((t) => /sum by \(level\)/.test(t.expr))), 'log lines by level');
  const variables = Object.fromEntries(dashboard.templating.list.map((v: { name: string }) => [v.name, v]));
  assert.equal(variables.request_id.type, 'textbox');
  assert.deepEqual(variables.level.query.split(','), Object.keys(pino.levels.values).sort((a, b) => pino.levels.values[a]! - pino.levels.values[b]!));
  const configs = alloyConfigs();
  const compose = parse(read('docker-compose.yml'), { merge: true });
  const appLabels = new Set(Object.values<any>(compose.services).map((s) => s.labels?.app).filter(Boolean));
  const deployment = parseAllDocuments(read('k8s/gatehouse.yaml')).map((d) => d.toJS()).find((d) => d.kind === 'Deployment');
  for (const panel of lokiPanels) {
    for (const { expr } of panel.targets) {
      assert.match(expr, /level=~"\$level"/, `${panel.title}: filtered by the level variable`);
      assert.match(expr, /\|= "\$request_id"/, `${panel.title}: filtered by the request id`);
      for (const label of labelsIn(expr)) for (const [where, alloy] of Object.entries(configs)) assert.ok(alloy.labels.has(label), `${panel.title} uses the label ${label}, which the ${where} collector never sets`);
      // The apps it selects are labelled so: the servers and nginx on Compose, the pods on Kubernetes.
      const apps = /app=~"([^"]+)"/.exec(expr)![1]!.split('|');
      for (const app of apps) assert.ok(appLabels.has(app), `${panel.title}: no compose service is labelled app=${app}`);
      assert.ok(apps.includes(deployment.spec.template.metadata.labels.app));
    }
  }
});

it('Kubernetes logs: Alloy as a DaemonSet reading the pods\' logs, allowed to list pods, sending to the Loki it ships', () => {
  const docs = k8sLogs();
  const find = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);
  const daemonSet = find('DaemonSet', 'alloy');
  const pod = daemonSet.spec.template.spec;
  const container = pod.containers[0];
  assert.match(container.image, /^grafana\/alloy:v\d+\.\d+\.\d+$/);
  assert.equal(container.args.at(-1), '/etc/alloy/config.alloy');
  assert.ok(container.env.some((e: any) => e.name === 'NODE_NAME' && e.valueFrom.fieldRef.fieldPath === 'spec.nodeName'));
  const mountOf = (name: string) => container.volumeMounts.find((m: { name: string }) => m.name === name);
  const volumeOf = (name: string) => pod.volumes.find((v: { name: string }) => v.name === name);
  assert.equal(volumeOf('pods').hostPath.path, '/var/log/pods');
  assert.deepEqual(mountOf('pods'), { name: 'pods', mountPath: '/var/log/pods', readOnly: true });
  assert.equal(volumeOf('config').configMap.name, 'alloy');
  assert.equal(mountOf('config').mountPath, '/etc/alloy');
  assert.deepEqual(daemonSet.spec.selector.matchLabels, daemonSet.spec.template.metadata.labels);
  // Its service account may list the pods (to know whose log file is whose).
  const binding = find('ClusterRoleBinding', 'gatehouse-logs-alloy');
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: pod.serviceAccountName, namespace: daemonSet.metadata.namespace }]);
  assert.ok(find('ClusterRole', binding.roleRef.name).rules.some((r: any) => r.resources.includes('pods') && ['get', 'list', 'watch'].every((v) => r.verbs.includes(v))));
  const { kubernetes: config } = alloyConfigs();
  assert.match(config.text, /"__meta_kubernetes_pod_uid", "__meta_kubernetes_pod_container_name"\]\s*separator\s*=\s*"\/"\s*replacement\s*=\s*"\/var\/log\/pods\/\*\$1\/\*\.log"/);
  assert.match(config.text, /stage\.cri \{\}/);
  // Loki: the shipped configuration, behind a Service at the address Alloy pushes to.
  assert.deepEqual(parse(find('ConfigMap', 'loki').data['loki.yml']), parse(read('loki/loki.yml')));
  const service = find('Service', 'loki');
  const port = parse(read('loki/loki.yml')).server.http_listen_port;
  assert.equal(config.pushUrl, `http://loki.${service.metadata.namespace}.svc:${service.spec.ports[0].port}/loki/api/v1/push`);
  assert.equal(find('StatefulSet', 'loki').spec.template.spec.containers[0].ports[0].containerPort, port);
  assert.deepEqual(service.spec.selector, find('StatefulSet', 'loki').spec.template.metadata.labels);
});

/** The parts of a log_format (its quoted segments, joined), with each variable replaced by a sample value. */
function renderLogFormat(conf: string, name: string, samples: Record<string, string>): string {
  const format = new RegExp(`log_format ${name} escape=json\\s+((?:'[^']*'\\s*)+);`).exec(conf);
  assert.ok(format, `no log_format ${name}`);
  const template = [...format[1]!.matchAll(/'([^']*)'/g)].map((m) => m[1]).join('');
  return template.replace(/\$(\w+)/g, (_, variable: string) => samples[variable] ?? `sample-${variable}`);
}

for (const file of ['nginx.conf', 'nginx.compose.conf']) {
  it(`${file}: one request id from nginx on (the client's when well formed, else nginx's own), logged as JSON lines in the servers' shape`, () => {
    const conf = read(file);
    // nginx accepts exactly the ids the servers accept, so that both log the same one.
    const map = /map \$http_x_request_id \$gatehouse_request_id \{\s*"~([^"]+)" \$http_x_request_id;\s*default \$request_id;\s*\}/.exec(conf);
    assert.ok(map, 'the request id map');
    assert.equal(map[1], REQUEST_ID_PATTERN.source);
    assert.match(conf, /proxy_set_header X-Request-Id \$gatehouse_request_id;/);
    assert.match(conf, /add_header X-Request-Id \$gatehouse_request_id always;/);
    assert.match(conf, /access_log \S+ gatehouse_json;/);
    const line = JSON.parse(renderLogFormat(conf, 'gatehouse_json', { status: '502', request_time: '0.012', gatehouse_log_level: '50', gatehouse_request_id: 'abc-123' }));
    assert.equal(line[REQUEST_ID_FIELD], 'abc-123');
    assert.equal(line.level, pino.levels.values.error);
    assert.equal(line.res.statusCode, 502);
    assert.equal(typeof line.time, 'string');
    assert.equal(typeof line.msg, 'string');
    // The path only, as the servers log it: no variable that holds the query (a phone number looked up).
    const format = /log_format gatehouse_json[^;]*;/.exec(conf)![0];
    assert.doesNotMatch(format, /\$(request_uri|request|args|query_string|arg_\w+)\b/);
    assert.match(format, /"url":"\$uri"/);
    // The level a status gets: 5xx is an error, anything else info.
    const levels = /map \$status \$gatehouse_log_level \{\s*"~\^5" (\d+);\s*default (\d+);\s*\}/.exec(conf);
    assert.deepEqual([Number(levels?.[1]), Number(levels?.[2])], [pino.levels.values.error, pino.levels.values.info]);
  });
}
