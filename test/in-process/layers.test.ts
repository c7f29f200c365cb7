// The layer rules of src/ (docs/architecture.md, "Layers"), checked on the import statements of every
// file, static and dynamic, type-only included: a type import is a dependency too.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/**
 * Every folder (and top-level file) of src/, lowest layer first. A unit may import units of its own
 * layer and of the layers above it in this table, never of one below: nothing imports upward.
 */
const LAYERS: ReadonlyArray<{ layer: string; units: readonly string[]; job: string }> = [
  { layer: 'kernel', units: ['errors.ts', 'principal.ts'], job: 'the error catalogue; who acts (a user, an API key, the operator)' },
  { layer: 'infrastructure', units: ['config.ts', 'db', 'kv', 'cache', 'security', 'observability', 'text'], job: 'configuration, stores, hashing and limits, logs and metrics, text helpers: no feature' },
  { layer: 'http', units: ['http'], job: 'cross-cutting HTTP pieces, on small interfaces (a credential resolver), no feature' },
  { layer: 'primitives', units: ['tasks', 'audit'], job: 'the task system and the audit log: used by features, knowing none' },
  { layer: 'features', units: ['accounts', 'admin', 'apikeys', 'authz', 'captcha', 'exports', 'federation', 'health', 'imports', 'oidc', 'orgs', 'passkeys', 'sessions', 'sms', 'web'], job: 'one folder per capability: routes, services, its repo' },
  { layer: 'composition', units: ['services.ts', 'task-handlers.ts', 'app.ts'], job: 'the composition root: services, task handlers and the HTTP app wired from config' },
  { layer: 'processes', units: ['server'], job: 'the cluster primary, HTTP workers, task workers, first-run bootstrap' },
  { layer: 'entry', units: ['cli.ts', 'cli'], job: 'the command line: one file per command group' },
];

type Edge = { from: string; to: string; file: string; target: string };

/** The unit (top-level folder, or top-level file) a path inside src/ belongs to. */
function unitOf(relative: string): string {
  return relative.split('/')[0]!;
}

/** Every import of every .ts file under src/, resolved to the file it names. */
function importsOf(root: string): Edge[] {
  const edges: Edge[] = [];
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  for (const file of files) {
    const relative = file.split(path.sep).join('/');
    const { importedFiles } = ts.preProcessFile(readFileSync(path.join(root, file), 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue; // a package
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(relative), fileName)).replace(/\.js$/, '.ts');
      edges.push({ from: unitOf(relative), to: unitOf(target), file: relative, target });
    }
  }
  return edges;
}

/** What breaks the rules, one line each; empty when the code keeps them. */
function violations(edges: readonly Edge[], units: ReadonlySet<string>): string[] {
  const layerOf = new Map(LAYERS.flatMap(({ units: us }, i) => us.map((u) => [u, i] as const)));
  const found: string[] = [];
  for (const unit of units) if (!layerOf.has(unit)) found.push(`src/${unit} is in no layer: add it to the table`);
  const graph = new Map<string, Set<string>>();
  for (const edge of edges) {
    if (edge.target.startsWith('..')) {
      found.push(`${edge.file} imports ${edge.target}, outside src/`);
      continue;
    }
    if (edge.from === edge.to) continue;
    const from = layerOf.get(edge.from);
    const to = layerOf.get(edge.to);
    if (from !== undefined && to !== undefined && to > from) {
      found.push(`${edge.file} (${LAYERS[from]!.layer}) imports ${edge.target} (${LAYERS[to]!.layer}): nothing imports upward`);
    }
    if (path.posix.basename(edge.target) === 'repo.ts') found.push(`${edge.file} imports ${edge.target}: a feature's data is read through its service, never its repo`);
    if (!graph.has(edge.from)) graph.set(edge.from, new Set());
    graph.get(edge.from)!.add(edge.to);
  }
  for (const group of circlesOf(graph)) found.push(`folders import each other in a circle: ${group.join(', ')}`);
  return found;
}

/** The groups of units that import each other, directly or through others (Tarjan's strongly connected components). */
function circlesOf(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (unit: string) => {
    index.set(unit, index.size);
    low.set(unit, index.get(unit)!);
    stack.push(unit);
    for (const next of graph.get(unit) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(unit, Math.min(low.get(unit)!, low.get(next)!));
      } else if (stack.includes(next)) low.set(unit, Math.min(low.get(unit)!, index.get(next)!));
    }
    if (low.get(unit) !== index.get(unit)) return;
    const group: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      group.unshift(member);
    } while (member !== unit);
    if (group.length > 1) cycles.push(group.sort());
  };
  for (const unit of graph.keys()) if (!index.has(unit)) visit(unit);
  return cycles;
}

describe('layers of src/', () => {
  const edges = importsOf(SRC);
  const units = new Set(readdirSync(SRC).filter((name) => !name.endsWith('.d.ts')));

  it('every import keeps the rules: no upward import, no other folder\'s repo.ts, no circle of folders', () => {
    assert.ok(edges.length > 300, `the parser found ${edges.length} imports: too few to be all of them`);
    assert.deepEqual(violations(edges, units), []);
  });

  it('the layers hold what docs/architecture.md says: tasks/ and http/ know no feature; nothing but the entry imports cli/ or server/', () => {
    const features = new Set(LAYERS.find((l) => l.layer === 'features')!.units);
    for (const lower of ['tasks', 'http', 'db', 'kv', 'security', 'observability', 'text', 'cache']) {
      assert.deepEqual(edges.filter((e) => e.from === lower && features.has(e.to)).map((e) => `${e.file} → ${e.target}`), [], `${lower}/ imports a feature`);
    }
    const entry = new Set(['cli.ts', 'cli']);
    assert.deepEqual(edges.filter((e) => e.to === 'cli' && !entry.has(e.from)).map((e) => e.file), []);
    assert.deepEqual(edges.filter((e) => e.to === 'server' && !entry.has(e.from) && e.from !== 'server').map((e) => e.file), []);
  });

  it('a broken rule is reported: an upward import, another folder\'s repo, a circle, a folder in no layer', () => {
    const bad = (from: string, target: string): Edge => ({ from: unitOf(from), to: unitOf(target), file: from, target });
    const known = new Set(['http', 'accounts', 'sessions', 'tasks', 'sms', 'imports']);
    assert.match(violations([bad('http/auth.ts', 'accounts/service.ts')], known).join('\n'), /http\/auth\.ts \(http\) imports accounts\/service\.ts \(features\): nothing imports upward/);
    assert.match(violations([bad('accounts/profile.ts', 'sessions/repo.ts')], known).join('\n'), /through its service, never its repo/);
    assert.match(violations([bad('sms/service.ts', 'imports/service.ts'), bad('imports/handler.ts', 'sms/codes.ts')], known).join('\n'), /in a circle: imports, sms/);
    assert.match(violations([], new Set(['plugins'])).join('\n'), /src\/plugins is in no layer/);
    assert.deepEqual(violations([bad('sms/service.ts', 'accounts/service.ts')], known), [], 'one feature may use another through its service');
  });
});
