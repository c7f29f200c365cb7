// A TCP proxy standing for an address that moves (a DNS name after a failover): new connections go
// wherever it points now, connections already open stay with the server they reached.
import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** Where new connections go from now on. */
  pointTo(port: number): void;
  /** Client-side connections open now. */
  openConnections(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let target = targetPort;
  const clients = new Set<net.Socket>();
  const upstreams = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    for (const [socket, set] of [[client, clients], [upstream, upstreams]] as const) {
      set.add(socket);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => set.delete(socket));
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    pointTo(port) {
      target = port;
    },
    openConnections: () => clients.size,
    async close() {
      for (const socket of [...clients, ...upstreams]) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
