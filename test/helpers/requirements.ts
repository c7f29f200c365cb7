// What a test needs from the machine beyond Node.js and npm, how to tell whether it is there, and the
// one line that installs it. A test that needs something missing is skipped by name with that reason;
// `npm test` (test/run.ts) installs the Debian packages and starts the services first when it can.
import { existsSync, readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { CHROMIUM } from './browser-path.js';
import { POSTGRES_ADMIN_URL } from './postgres.js';
import { TEST_REDIS_URL as REDIS_TEST_URL } from './redis.js';

/** The Chinese font the browser tests need (Debian's fonts-wqy-microhei). */
const CJK_FONT = '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc';

export type Need = 'postgres' | 'postgres-binaries' | 'redis' | 'redis-binaries' | 'nginx' | 'openssl' | 'chromium' | 'docker-compose' | 'promtool' | 'root';

interface NeedSpec {
  /** What it is, for the skip message. */
  what: string;
  /** Debian/Ubuntu packages that bring it (none: not a package). */
  packages: string[];
  /** How to get it where no package does. */
  otherwise?: string;
  present(): boolean | Promise<boolean>;
}

/** Whether `command` runs by its name here (the tests start it so; /usr/sbin is often not on a user's PATH). */
export function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && existsSync(path.join(dir, command)));
}

function postgresBinaries(): boolean {
  try {
    return readdirSync('/usr/lib/postgresql').some((version) => existsSync(`/usr/lib/postgresql/${version}/bin/initdb`));
  } catch {
    return false;
  }
}

async function postgresAnswers(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function redisAnswers(url = REDIS_TEST_URL): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname || '127.0.0.1', port: Number(port || 6379) });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

export const NEEDS: Record<Need, NeedSpec> = {
  postgres: {
    what: `a PostgreSQL server at ${POSTGRES_ADMIN_URL.replace(/\/\/[^@/]*@/, '//…@')} (or GATEHOUSE_TEST_POSTGRES_URL)`,
    packages: ['postgresql'],
    otherwise: 'or point GATEHOUSE_TEST_POSTGRES_URL at a server where that user may create databases',
    present: () => postgresAnswers(),
  },
  'postgres-binaries': {
    what: "PostgreSQL's server programs (initdb, pg_ctl), to run servers of the test's own",
    packages: ['postgresql'],
    present: () => postgresBinaries() && (process.getuid?.() !== 0 || onPath('runuser')),
  },
  redis: {
    what: `a Redis server at ${REDIS_TEST_URL} (or GATEHOUSE_TEST_REDIS_URL)`,
    packages: ['redis-server'],
    otherwise: 'or point GATEHOUSE_TEST_REDIS_URL at one',
    present: () => redisAnswers(),
  },
  'redis-binaries': {
    what: 'redis-server and redis-cli, to run servers of the test\'s own',
    packages: ['redis-server'],
    present: () => onPath('redis-server') && onPath('redis-cli'),
  },
  nginx: { what: 'nginx, as the load balancer in front of the servers', packages: ['nginx'], present: () => onPath('nginx') },
  openssl: { what: "openssl, to make a test's TLS certificate", packages: ['openssl'], present: () => onPath('openssl') },
  chromium: {
    what: `Chromium at ${CHROMIUM} (or GATEHOUSE_TEST_CHROMIUM), for the browser tests`,
    packages: ['chromium', 'fonts-wqy-microhei'],
    // The font too: without it the pages' Chinese renders as empty boxes (and so would docs/screenshots).
    present: () => existsSync(CHROMIUM) && existsSync(CJK_FONT),
  },
  'docker-compose': { what: 'docker-compose, to validate deploy/docker-compose.yml (no Docker engine needed)', packages: ['docker-compose'], present: () => onPath('docker-compose') },
  promtool: { what: "promtool, to check deploy/prometheus's configuration and alert rules", packages: ['prometheus'], present: () => onPath('promtool') },
  root: {
    what: 'root (mounting a small tmpfs to fill up)',
    packages: [],
    otherwise: 'run the tests as root (sudo npm test), or in a container',
    present: () => process.getuid?.() === 0,
  },
};

/** The line that installs what `need` names. */
export function installLine(need: Need): string {
  const spec = NEEDS[need];
  const apt = spec.packages.length ? `apt-get install -y ${spec.packages.join(' ')}` : '';
  return [apt, spec.otherwise].filter(Boolean).join(' — ');
}

/** False when every need is met; else the reason to skip, naming what is missing and how to install it. */
export async function unmet(...needs: Need[]): Promise<string | false> {
  for (const need of needs) {
    if (await NEEDS[need].present()) continue;
    return `needs ${NEEDS[need].what} — install: ${installLine(need)}`;
  }
  return false;
}
