// Tencent Cloud SMS (SendSms, API 3.0, version 2021-01-11), signed with TC3-HMAC-SHA256 as its
// documentation describes ("Signature v3"); test/in-process/sms.test.ts checks the signer against the worked
// example in that documentation.
import { createHash, createHmac } from 'node:crypto';
import { fetchWithTimeout, PermanentSmsError, type SmsProvider } from './types.js';

const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const hmac = (key: string | Buffer, text: string) => createHmac('sha256', key).update(text, 'utf8').digest();

export interface Tc3Request {
  secretId: string;
  secretKey: string;
  service: string;
  host: string;
  /** Unix seconds. */
  timestamp: number;
  payload: string;
  contentType?: string;
}

export interface Tc3Signature {
  hashedPayload: string;
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
  authorization: string;
}

/** The TC3-HMAC-SHA256 signature of a POST with a JSON body (signed headers: content-type;host). */
export function signTc3(request: Tc3Request): Tc3Signature {
  const contentType = request.contentType ?? 'application/json; charset=utf-8';
  const date = new Date(request.timestamp * 1000).toISOString().slice(0, 10); // the UTC date, as the documentation insists
  const hashedPayload = sha256Hex(request.payload);
  const signedHeaders = 'content-type;host';
  const canonicalRequest = ['POST', '/', '', `content-type:${contentType}\nhost:${request.host}\n`, signedHeaders, hashedPayload].join('\n');
  const scope = `${date}/${request.service}/tc3_request`;
  const stringToSign = ['TC3-HMAC-SHA256', String(request.timestamp), scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(`TC3${request.secretKey}`, date), request.service), 'tc3_request');
  const signature = createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
  return {
    hashedPayload,
    canonicalRequest,
    stringToSign,
    signature,
    authorization: `TC3-HMAC-SHA256 Credential=${request.secretId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

export interface TencentOptions {
  secretId: string;
  secretKey: string;
  sdkAppId: string;
  signName: string;
  templateId: string;
  /** The template of the taken-number notice (no parameters); without it no notice is sent. */
  noticeTemplateId?: string | undefined;
  region: string;
  endpoint: string;
  timeoutMs: number;
  now?: () => number;
}

/** Error codes after which a retry cannot succeed (bad number, template, signature, account setup). */
const PERMANENT = /^(InvalidParameter|InvalidParameterValue|UnauthorizedOperation|AuthFailure|UnsupportedOperation|FailedOperation\.(PhoneNumberInBlacklist|TemplateIncorrectOrUnapproved|SignatureIncorrectOrUnapproved|MissingSignature|MissingTemplate))/;

export function tencentProvider(options: TencentOptions): SmsProvider {
  const now = options.now ?? Date.now;
  const host = new URL(options.endpoint).host;
  return {
    name: 'tencent',
    notices: Boolean(options.noticeTemplateId),
    async send(message, signal) {
      const notice = message.kind === 'taken_notice';
      const payload = JSON.stringify({
        PhoneNumberSet: [message.phone],
        SmsSdkAppId: options.sdkAppId,
        SignName: options.signName,
        TemplateId: notice ? options.noticeTemplateId : options.templateId,
        TemplateParamSet: notice ? [] : [message.code, String(message.minutes)],
        SessionContext: message.deliveryId,
      });
      const timestamp = Math.floor(now() / 1000);
      const signed = signTc3({ secretId: options.secretId, secretKey: options.secretKey, service: 'sms', host, timestamp, payload });
      const response = await fetchWithTimeout(
        options.endpoint,
        {
          method: 'POST',
          headers: {
            authorization: signed.authorization,
            'content-type': 'application/json; charset=utf-8',
            host,
            'x-tc-action': 'SendSms',
            'x-tc-timestamp': String(timestamp),
            'x-tc-version': '2021-01-11',
            'x-tc-region': options.region,
          },
          body: payload,
        },
        options.timeoutMs,
        signal,
      );
      if (!response.ok) throw new Error(`Tencent SMS answered HTTP ${response.status}`);
      const body = (await response.json()) as { Response?: { Error?: { Code: string; Message: string }; SendStatusSet?: Array<{ Code: string; Message: string; SerialNo?: string }>; RequestId?: string } };
      const error = body.Response?.Error;
      if (error) {
        const text = `Tencent SMS error ${error.Code}: ${error.Message}`;
        throw PERMANENT.test(error.Code) ? new PermanentSmsError(text) : new Error(text);
      }
      const status = body.Response?.SendStatusSet?.[0];
      if (!status) throw new Error('Tencent SMS answered without a send status');
      if (status.Code !== 'Ok') {
        const text = `Tencent SMS refused the message: ${status.Code}: ${status.Message}`;
        throw PERMANENT.test(status.Code) ? new PermanentSmsError(text) : new Error(text);
      }
      return { providerMessageId: status.SerialNo ?? body.Response?.RequestId ?? null };
    },
  };
}
