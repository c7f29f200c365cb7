// One interface for every SMS provider. A provider either delivers or throws; an error it marks
// permanent (a rejected number, a bad template) is not retried.
import { PermanentTaskError } from '../../tasks/types.js';
import type { SmsPurpose } from '../codes.js';

export interface SmsMessage {
  /** E.164. */
  phone: string;
  purpose: SmsPurpose;
  /** A code, or the notice to a number's owner that someone tried to register it (no code: `code` is empty). */
  kind: 'code' | 'taken_notice';
  code: string;
  /** The code's lifetime, in minutes, for the text. */
  minutes: number;
  /** The delivery task's id: providers that accept one use it to drop duplicates. */
  deliveryId: string;
}

export interface SmsProvider {
  readonly name: string;
  /** Whether it can send the taken-number notice (a template provider needs a template for it). */
  readonly notices: boolean;
  send(message: SmsMessage, signal: AbortSignal): Promise<{ providerMessageId: string | null }>;
}

export class PermanentSmsError extends PermanentTaskError {
  override name = 'PermanentSmsError';
}

const PURPOSE_WORDS: Record<SmsPurpose, string> = { register: '注册', login: '登录', reset_password: '重置密码', change_phone: '更换手机号', link_identity: '绑定账号' };

/** The text for providers that send free text (console, webhook); Tencent sends a template instead. */
export function messageText(message: SmsMessage): string {
  if (message.kind === 'taken_notice') return '【Gatehouse】有人尝试用您的手机号注册新账号。如果是您本人，请直接登录或找回密码；如果不是，无需理会，您的账号不受影响。';
  const what = PURPOSE_WORDS[message.purpose];
  return `【Gatehouse】您的${what}验证码是 ${message.code}，${message.minutes} 分钟内有效。请勿告诉他人。`;
}

/** A fetch that fails after timeoutMs (or when the task is aborted). */
export async function fetchWithTimeout(url: string, init: RequestInit, timeoutMs: number, signal: AbortSignal): Promise<Response> {
  const timeout = AbortSignal.timeout(timeoutMs);
  return fetch(url, { ...init, signal: AbortSignal.any([timeout, signal]) });
}
