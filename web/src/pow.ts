// Solving a proof-of-work challenge in the browser: fetch it, solve it in module workers, and return the
// payload the ALTCHA widget would submit (base64 of {challenge, solution}).
import { solveChallengeWorkers, type Challenge } from 'altcha-lib';
import { api } from './api.js';

export type PowPurpose = 'login' | 'register' | 'sms';

/** A browser with more cores finishes sooner; beyond four the gain is small and the fan loud. */
const MAX_WORKERS = 4;

export async function fetchChallenge(purpose: PowPurpose, phone?: string): Promise<Challenge | null> {
  const query = new URLSearchParams({ purpose, ...(phone ? { phone } : {}) });
  const res = await api<Challenge>('GET', `/api/auth/altcha/challenge?${query}`);
  return res.ok ? res.data : null;
}

/** The solved payload, or null when the challenge could not be fetched or solved in time. */
export async function solvePow(challenge: Challenge, controller?: AbortController): Promise<string | null> {
  const concurrency = Math.max(1, Math.min(MAX_WORKERS, navigator.hardwareConcurrency || 2));
  const solution = await solveChallengeWorkers({
    challenge,
    concurrency,
    controller,
    createWorker: () => new Worker(new URL('./pow-worker.ts', import.meta.url), { type: 'module' }),
    timeout: 120_000,
  });
  if (!solution) return null;
  return btoa(JSON.stringify({ challenge, solution }));
}

let modePromise: Promise<'image' | 'pow' | 'either'> | undefined;
/** Which captcha the server takes (CAPTCHA_MODE), asked once per page. */
export function captchaMode(): Promise<'image' | 'pow' | 'either'> {
  modePromise ??= api<{ mode: 'image' | 'pow' | 'either' }>('GET', '/api/auth/captcha/mode').then((res) => (res.ok ? res.data.mode : 'image'));
  return modePromise;
}
