// A PostgreSQL server of the test's own on a spare port (initdb/pg_ctl from the installed packages,
// run as the postgres user), so that a test can stop it and start it again; and, from it, a streaming
// replica of its own (pg_basebackup), so that a test can pause its replay or stop it.
import { execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './cluster.js';

function binDir(): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error('no PostgreSQL installation under /usr/lib/postgresql');
  return `/usr/lib/postgresql/${versions[0]}/bin`;
}

export interface OwnPostgres {
  url: string;
  port: number;
  /** Stops like a crash (immediate mode): only what was committed survives. */
  crash(): void;
  /** Stops every process of the server where it stands (SIGSTOP), connections left open and silent: a machine that froze or lost its network. */
  freeze(): void;
  thaw(): void;
  /** Runs one statement on this server, on a connection of its own. */
  query(statement: string): Promise<void>;
  start(): void;
  destroy(): void;
}

function asPostgres(command: string, args: string[]): void {
  const full = [path.join(binDir(), command), ...args];
  // initdb refuses to run as root: run it, and the server, as the postgres user.
  if (userInfo().uid === 0) execFileSync('runuser', ['-u', 'postgres', '--', ...full], { stdio: 'pipe' });
  else execFileSync(full[0]!, full.slice(1), { stdio: 'pipe' });
}

function ownedDirectory(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-pg-'));
  if (userInfo().uid === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  return dir;
}

/** Sends a signal to the server's postmaster and every process it started. */
function signalAll(data: string, signal: NodeJS.Signals): void {
  let postmaster: number;
  try {
    postmaster = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return; // not running
  }
  let children: number[] = [];
  try {
    children = execFileSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    /* none */
  }
  for (const pid of [postmaster, ...children]) {
    try {
      process.kill(pid, signal);
    } catch {
      /* gone meanwhile */
    }
  }
}

function serverIn(dir: string, port: number): OwnPostgres {
  const data = path.join(dir, 'data');
  const start = () => asPostgres('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on`, 'start']);
  start();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    crash: () => asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']),
    start,
    async query(statement) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(statement);
      } finally {
        await client.end();
      }
    },
    freeze: () => signalAll(data, 'SIGSTOP'),
    thaw: () => signalAll(data, 'SIGCONT'),
    destroy() {
      try {
        signalAll(data, 'SIGCONT');
        asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        /* already stopped */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const dir = ownedDirectory();
  const data = path.join(dir, 'data');
  asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  // Lets a replica of this server stream from it (startReplicaOf).
  appendFileSync(path.join(data, 'pg_hba.conf'), 'host replication all 127.0.0.1/32 trust\n');
  return serverIn(dir, await freePort());
}

/** A hot-standby streaming replica of a server from startOwnPostgres, on a port of its own. */
export async function startReplicaOf(primary: OwnPostgres): Promise<OwnPostgres> {
  const dir = ownedDirectory();
  // -R writes the standby settings (primary_conninfo, standby.signal); -X stream copies the WAL too.
  asPostgres('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', path.join(dir, 'data'), '-R', '-X', 'stream']);
  return serverIn(dir, await freePort());
}
