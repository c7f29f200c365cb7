// Starts bench/floor-server.ts: the same processes, HTTP stack and hashing pool as `gatehouse serve`,
// and no work of its own, so that a benchmark can measure the service against it in the same run.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/cluster.js';

export interface FloorServer {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export async function startFloorServer(workers: number, env: Record<string, string> = {}): Promise<FloorServer> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./floor-server.ts', import.meta.url)), String(port), String(workers)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('floor listening') && resolve());
    child.once('exit', (code) => reject(new Error(`floor server exited with ${code}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    port,
    pid: child.pid!,
    async stop() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
