// Every task type this build can run, each from the feature that owns it: the task system (tasks/)
// knows no feature, and the features' handlers meet here, at the composition root. The API and the
// workers build the same registry, so a type the API accepts is one the workers know. Handlers get
// what they need at construction; the API process only uses parse(), so nothing here connects
// anywhere until a handler runs.
import type { Logger } from 'pino';
import { AuditLog } from './audit/service.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { smsContentFor } from './accounts/service.js';
import type { KeyValueStore } from './kv/store.js';
import { smsDeliveryHandler } from './sms/delivery.js';
import { createSmsProvider } from './sms/providers/index.js';
import type { SmsProvider } from './sms/providers/types.js';
import { TaskRegistry } from './tasks/registry.js';
import { echoHandler } from './tasks/echo.js';
import { rosterImportHandler } from './imports/handler.js';
import { rosterExportHandler } from './exports/handler.js';

export interface HandlerDeps {
  config: Config;
  database: Database;
  kv: KeyValueStore;
  secret: string;
  log: Pick<Logger, 'info'>;
}

export function createTaskRegistry(deps: HandlerDeps): TaskRegistry {
  let provider: SmsProvider | undefined;
  return new TaskRegistry([
    echoHandler,
    smsDeliveryHandler({
      secret: deps.secret,
      kv: deps.kv,
      config: deps.config.sms,
      contentFor: (phone, purpose) => smsContentFor(deps.database.db, phone, purpose),
      provider: () => (provider ??= createSmsProvider(deps.config, deps.database, deps.log)),
    }),
    rosterImportHandler({ database: deps.database, audit: new AuditLog(deps.database), defaultRegion: deps.config.defaultRegion, maxRows: deps.config.imports.maxRows }),
    rosterExportHandler({ database: deps.database }),
  ]);
}
