// A real nginx (Debian's package) balancing round-robin over local Gatehouse servers.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, request } from './cluster.js';

export interface Nginx {
  port: number;
  stop(): Promise<void>;
}

/**
 * The start of a test nginx's configuration, up to inside its http block: everything it writes (its
 * pid, logs, temporary files) under `prefix`, so that it runs as any user beside the machine's own.
 */
export function nginxPreamble(prefix: string, workerConnections = 1024): string {
  return `
worker_processes 1;
error_log ${prefix}/logs/error.log warn;
pid ${prefix}/nginx.pid;
events { worker_connections ${workerConnections}; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;`;
}

/** `port`: where nginx listens (a test that names it in the servers' PUBLIC_URL picks it first); default: a free one. */
export async function startNginx(upstreamPorts: number[], options: { port?: number } = {}): Promise<Nginx> {
  const prefix = mkdtempSync(path.join(tmpdir(), 'gatehouse-nginx-'));
  mkdirSync(path.join(prefix, 'logs'));
  const port = options.port ?? (await freePort());
  const conf = `${nginxPreamble(prefix, 8192)}
  upstream gatehouse {
    ${upstreamPorts.map((p) => `server 127.0.0.1:${p};`).join('\n    ')}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass http://gatehouse;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      add_header X-Upstream $upstream_addr always;
      proxy_read_timeout 60s;
    }
  }
}`;
  return runNginx(prefix, port, conf, async () => (await request(port, 'GET', '/healthz')).status === 200);
}

/**
 * Runs nginx with `conf` (a whole nginx.conf) from `prefix` until stopped; ready once `ready()` says
 * so. For tests whose nginx is more than a load balancer (forward auth's auth_request).
 */
export async function runNginx(prefix: string, port: number, conf: string, ready: () => Promise<boolean>): Promise<Nginx> {
  const confFile = path.join(prefix, 'nginx.conf');
  writeFileSync(confFile, conf);
  const child: ChildProcess = spawn('nginx', ['-p', prefix, '-c', confFile, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    try {
      if (await ready()) break;
    } catch {
      /* not listening yet */
    }
    if (i > 100) throw new Error(`nginx did not start: ${stderr} ${readFileSync(path.join(prefix, 'logs/error.log'), 'utf8')}`);
    await sleep(100);
  }
  return {
    port,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGQUIT');
      await exited;
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
