// The primary accepts every connection and hands it to an HTTP worker, round-robin, over the worker's
// IPC channel; the workers never listen themselves.
//
// Why not node:cluster's own round-robin: when a worker dies while a connection is on its way to it,
// node:cluster keeps the primary's copy of that socket open and hands it to nobody, so the client
// waits for an answer that never comes; and when the last worker stops listening at shutdown, the
// connections still queued in the primary are reset. Here the primary keeps its copy of a socket
// until the worker says it took it, and closes every copy a dead worker never took, so each client
// is answered or sees its connection close; and it stops accepting only when told to.
import type { Worker } from 'node:cluster';
import net from 'node:net';
import type { Server as HttpServer } from 'node:http';

const HANDOFF = 'gatehouse:connection';
const TOOK = 'gatehouse:took-connection';

export interface ConnectionLog {
  warn(details: object, message: string): void;
}

export class ConnectionDistributor {
  private readonly server: net.Server;
  private readonly ready: Worker[] = [];
  private readonly waiting: net.Socket[] = [];
  /** Sockets on their way to each worker, by id, until the worker says it took them. */
  private readonly inFlight = new Map<Worker, Map<number, net.Socket>>();
  private nextId = 0;
  private turn = 0;
  private accepting = true;

  constructor(private readonly log: ConnectionLog) {
    // Paused: the primary never reads a byte; the worker that gets the socket reads the request.
    this.server = net.createServer({ pauseOnConnect: true }, (socket) => this.handOff(socket));
  }

  listen(port: number, host: string, backlog: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port, host, backlog }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** A worker that has said it is ready takes connections from now on (queued ones first). */
  addWorker(worker: Worker): void {
    this.ready.push(worker);
    const sent = new Map<number, net.Socket>();
    this.inFlight.set(worker, sent);
    worker.on('message', (message: { type?: string; id?: number } | null) => {
      if (message?.type !== TOOK || message.id === undefined) return;
      // The worker holds its own descriptor now; closing the primary's leaves the connection open.
      sent.get(message.id)?.destroy();
      sent.delete(message.id);
    });
    for (let socket = this.waiting.shift(); socket; socket = this.waiting.shift()) this.handOff(socket);
  }

  /** A worker that stopped or died: what it never took is closed, so that no client waits for it. */
  removeWorker(worker: Worker): void {
    const at = this.ready.indexOf(worker);
    if (at !== -1) this.ready.splice(at, 1);
    for (const socket of this.inFlight.get(worker)?.values() ?? []) socket.destroy();
    this.inFlight.delete(worker);
  }

  /** Stops accepting new connections; those accepted already still go to the workers. */
  stopAccepting(): void {
    if (!this.accepting) return;
    this.accepting = false;
    this.server.close();
    if (this.ready.length === 0) for (const socket of this.waiting.splice(0)) socket.destroy();
  }

  private handOff(socket: net.Socket): void {
    const worker = this.nextWorker();
    if (!worker) {
      // Every worker is starting or has died: hold the connection until one is ready.
      if (this.accepting) this.waiting.push(socket);
      else socket.destroy();
      return;
    }
    const id = this.nextId++;
    const sent = this.inFlight.get(worker)!;
    sent.set(id, socket);
    worker.send({ type: HANDOFF, id }, socket, { keepOpen: true }, (error) => {
      if (!error) return;
      // The message never left: the worker is going away, and another one serves the connection.
      sent.delete(id);
      this.removeWorker(worker);
      if (socket.destroyed) return;
      this.log.warn({ err: error, worker: worker.id }, 'handing a connection to a worker failed; trying another');
      this.handOff(socket);
    });
  }

  private nextWorker(): Worker | undefined {
    while (this.ready.length > 0) {
      const worker = this.ready[this.turn++ % this.ready.length]!;
      if (worker.isConnected()) return worker;
      this.removeWorker(worker);
    }
    return undefined;
  }
}

/** Worker: serves the connections the primary hands over, as if `server` had accepted them. */
export function serveHandedOffConnections(server: HttpServer): void {
  // A server that never listens never starts the timer that enforces requestTimeout and
  // headersTimeout, nor the list closeIdleConnections reads: 'listening' starts both.
  server.emit('listening');
  process.on('message', (message: { type?: string; id?: number } | null, socket: unknown) => {
    if (message?.type !== HANDOFF || !(socket instanceof net.Socket)) return;
    server.emit('connection', socket);
    socket.resume();
    process.send?.({ type: TOOK, id: message.id });
  });
}
