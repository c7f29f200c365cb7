// Solving Gatehouse's proof-of-work challenges in tests, as a client of the ALTCHA protocol would.
import { solveChallenge, type Challenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import type { FastifyInstance } from 'fastify';

/** The payload the ALTCHA widget submits: base64 of {challenge, solution}. */
export async function solvePayload(challenge: Challenge): Promise<string> {
  const solution = await solveChallenge({ challenge, deriveKey, timeout: 60_000 });
  if (!solution) throw new Error('challenge not solved');
  return Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
}

export async function fetchChallenge(app: FastifyInstance, query = '', headers: Record<string, string> = {}): Promise<Challenge> {
  const res = await app.inject({ method: 'GET', url: `/api/auth/altcha/challenge${query}`, headers });
  if (res.statusCode !== 200) throw new Error(`altcha challenge: ${res.statusCode} ${res.body}`);
  return res.json() as Challenge;
}

/** A solved payload for `purpose`, fetched from app. */
export async function newAltcha(app: FastifyInstance, purpose?: string): Promise<string> {
  return solvePayload(await fetchChallenge(app, purpose ? `?purpose=${purpose}` : ''));
}
