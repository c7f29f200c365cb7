// better-sqlite3 compiles SQL on every prepare(); Kysely and rate-limiter-flexible call prepare() for
// every query. This wrapper hands back the compiled statement for SQL it has seen, which takes
// parsing and planning off every request's path.
import type BetterSqlite3 from 'better-sqlite3';

export function withStatementCache(db: BetterSqlite3.Database, maxStatements = 256): BetterSqlite3.Database {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return new Proxy(db, {
    get(target, property, receiver) {
      if (property === 'prepare') {
        return (sql: string) => {
          let statement = cache.get(sql);
          if (!statement) {
            statement = target.prepare(sql);
            if (cache.size >= maxStatements) cache.delete(cache.keys().next().value!);
            cache.set(sql, statement);
          }
          return statement;
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
