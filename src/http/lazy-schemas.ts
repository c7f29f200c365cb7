// Route schemas compiled when a route first uses them, not when the app starts. Fastify compiles a
// validator for every request part and a serializer for every response status of every route at
// start-up; with ~80 routes (most of them admin routes a worker may never serve, each with its error
// bodies) that was about a third of a worker's start (2.1–2.7 CPU-s here; `npm run bench:startup`),
// paid again by every worker that the primary forks or replaces. The routes a burst takes
// (registration, login, their captcha) still compile at start, so that a worker's first
// registrations pay nothing for it (a first request compiling its route took ≈ 70 ms more here).
// A schema that does not compile still fails loudly — on the route's first request (a 500, logged),
// and in test/in-process/openapi.test.ts, which compiles them all (compileAll).
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

type Validate = ((data: unknown) => boolean) & { errors?: ValidateFunction['errors'] };
type SerializerFactory = ReturnType<typeof SerializerSelector>;
type RouteDefinition = Parameters<ReturnType<SerializerFactory>>[0];

export interface LazySchemaCompilers {
  /** For app.setValidatorCompiler. */
  validatorCompiler: (route: { schema: object; url?: string; httpPart?: string }) => Validate;
  /** For Fastify's schemaController.compilersFactory.buildSerializer. */
  serializerFactory: SerializerFactory;
  /** Compiles every schema not compiled yet (throwing the first that does not compile); how many it compiled. */
  compileAll(): number;
}

/** A thunk that runs at most once, remembering its result. */
function once<T>(compile: () => T): () => T {
  let compiled: { value: T } | undefined;
  return () => (compiled ??= { value: compile() }).value;
}

/** `eagerPaths`: the routes whose schemas compile at once. */
export function createLazySchemaCompilers(eagerPaths: ReadonlySet<string> = new Set()): LazySchemaCompilers {
  const pending = new Set<() => unknown>();
  function deferred<T>(url: string | undefined, compile: () => T): () => T {
    const get = once(() => {
      pending.delete(get);
      return compile();
    });
    pending.add(get);
    if (url !== undefined && eagerPaths.has(url)) get();
    return get;
  }

  // Bodies are validated strictly (no type coercion, no silent dropping of unknown fields); query
  // strings and path parameters are coerced from text.
  const common = { allErrors: false, strict: false, removeAdditional: false, useDefaults: true } as const;
  const strictBodies = addFormats.default(new Ajv({ ...common, coerceTypes: false }));
  const coercing = addFormats.default(new Ajv({ ...common, coerceTypes: true }));
  const validatorCompiler = ({ schema, url, httpPart }: { schema: object; url?: string; httpPart?: string }): Validate => {
    const compiled = deferred(url, () => (httpPart === 'body' ? strictBodies : coercing).compile(schema));
    // Fastify reads a failed validation's errors from the function it was given.
    const validate: Validate = (data) => {
      const run = compiled();
      const valid = run(data) as boolean;
      validate.errors = run.errors;
      return valid;
    };
    validate.errors = null;
    return validate;
  };

  // Fastify's own serializer factory (fast-json-stringify, with the shared schemas), deferred.
  const build = SerializerSelector();
  const serializerFactory: SerializerFactory = (externalSchemas, options) => {
    const compile = build(externalSchemas, options);
    return (route: RouteDefinition) => {
      const compiled = deferred(route.url, () => compile(route));
      return (doc: unknown) => compiled()(doc);
    };
  };

  return {
    validatorCompiler,
    serializerFactory,
    compileAll() {
      const all = [...pending];
      for (const compile of all) compile();
      return all.length;
    },
  };
}
