// A solver for Gatehouse's proof-of-work challenges, run as a module worker (the CSP allows workers from
// 'self' only: no blob: workers). It speaks the message protocol of altcha-lib's own workers, so that
// altcha-lib's solveChallengeWorkers can drive several of them, with the browser's native PBKDF2.
import { solveChallenge, type Challenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/web/pbkdf2';

interface WorkMessage {
  type: 'work' | 'abort';
  challenge: Challenge;
  counterStart?: number;
  counterStep?: number;
  timeout?: number;
}

const scope = self as unknown as { onmessage: ((event: MessageEvent<WorkMessage>) => void) | null; postMessage(message: unknown): void };
let controller: AbortController | undefined;

scope.onmessage = async (event) => {
  const { type, challenge, counterStart, counterStep, timeout } = event.data;
  if (type === 'abort') {
    controller?.abort();
    return;
  }
  controller = new AbortController();
  try {
    scope.postMessage(await solveChallenge({ challenge, controller, counterStart, counterStep, deriveKey, timeout }));
  } catch (error) {
    scope.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
};
