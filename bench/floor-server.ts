// The floor for bench:burst --mode floor: the same processes, HTTP stack and machine-wide hashing pool
// as `gatehouse serve` (cluster primary with round-robin, N workers, argon2id on the primary's pool),
// and nothing else: POST /api/auth/register parses the JSON, hashes the password and answers 201;
// POST /api/auth/login (the floor for bench:login) parses the JSON, verifies the password against a
// stored hash with the service's parameters and answers 200 with a session-sized cookie.
// What this takes beyond the hashing bound is what any Node.js service pays on this machine with this
// client before doing any work of its own (captcha, limits, database).
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { clusterHashRunner, serveClusterHashing } from '../src/server/cluster-hashing.js';
import { createArgon2Pool, passwordHasher } from '../src/security/password.js';

const port = Number(process.argv[2]);
const workers = Number(process.argv[3]);

if (cluster.isPrimary) {
  cluster.schedulingPolicy = cluster.SCHED_RR;
  serveClusterHashing(createArgon2Pool(Number(process.env.HASH_THREADS) || undefined));
  let listening = 0;
  for (let i = 0; i < workers; i++) cluster.fork().on('listening', () => ++listening === workers && process.stdout.write(`floor listening on ${port}\n`));
} else {
  const hasher = passwordHasher(clusterHashRunner());
  // Every bench:login account has one password: its hash, made once per worker with the same
  // parameters, stands for each account's stored hash (a verification costs the same either way).
  const storedHash = hasher.hash(process.env.FLOOR_LOGIN_PASSWORD ?? 'workshop passphrase 2026');
  http
    .createServer((req, res) => {
      if (req.method === 'GET') {
        // The benchmark fetches a captcha per registration before the clock starts.
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ captcha_id: 'floor' }));
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { password: string; phone: string; name: string };
        if (req.url === '/api/auth/login') {
          const ok = await hasher.verify(await storedHash, body.password);
          res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json; charset=utf-8', 'set-cookie': `gatehouse_session=${randomBytes(32).toString('base64url')}; Path=/; HttpOnly; SameSite=Lax` });
          res.end(JSON.stringify({ user: { phone: body.phone } }));
          return;
        }
        const passwordHash = await hasher.hash(body.password);
        res.writeHead(201, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ user: { phone: body.phone, name: body.name, hashed: passwordHash.length > 0 } }));
      });
    })
    .listen(port, '127.0.0.1', 4096);
}
