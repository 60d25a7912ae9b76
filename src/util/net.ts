import { once } from 'node:events';
import net from 'node:net';

/** A TCP port free on `host` (default 127.0.0.1) right now: bind port 0, read it back, release it. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}
