// The provider SMS_PROVIDER names, built from config.
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { Database } from '../../db/database.js';
import { consoleProvider } from './console.js';
import { tencentProvider } from './tencent.js';
import type { SmsProvider } from './types.js';
import { webhookProvider } from './webhook.js';

export function createSmsProvider(config: Config, database: Database, log: Pick<Logger, 'info'>): SmsProvider {
  const sms = config.sms;
  switch (sms.provider) {
    case 'webhook':
      return webhookProvider({ url: sms.webhook.url!, secret: sms.webhook.secret!, timeoutMs: sms.timeoutMs });
    case 'tencent':
      return tencentProvider({
        secretId: sms.tencent.secretId!,
        secretKey: sms.tencent.secretKey!,
        sdkAppId: sms.tencent.sdkAppId!,
        signName: sms.tencent.signName!,
        templateId: sms.tencent.templateId!,
        noticeTemplateId: sms.tencent.noticeTemplateId,
        region: sms.tencent.region,
        endpoint: sms.tencent.endpoint,
        timeoutMs: sms.timeoutMs,
      });
    default:
      return consoleProvider(database, log);
  }
}
