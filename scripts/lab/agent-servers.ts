// The lab's "who am I" servers, run by the agent: every TCP connection and UDP datagram is answered
// with a ServerHello naming the server and the addresses it saw, so a client learns where DNAT and
// masquerade took its packets. A TCP client that sends SINK switches the connection to counting.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { SINK_COMMAND, type ListenRequest, type ServerHello } from './agent-protocol';

/** IPv4 peers of dual-stack sockets show as ::ffff:a.b.c.d; report them as plain IPv4. */
function plainAddress(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}

/** A TCP connection in line mode echoes lines; after SINK it counts bytes until the client ends. */
function serveTcpConnection(socket: net.Socket, name: string): void {
  const hello: ServerHello = {
    server: name,
    proto: 'tcp',
    local: { address: plainAddress(socket.localAddress), port: socket.localPort ?? 0 },
    remote: { address: plainAddress(socket.remoteAddress), port: socket.remotePort ?? 0 },
  };
  socket.on('error', () => socket.destroy());
  socket.write(JSON.stringify(hello) + '\n');
  let pending = Buffer.alloc(0);
  let sinking = false;
  let received = 0;
  socket.on('data', (chunk: Buffer) => {
    if (sinking) {
      received += chunk.length;
      return;
    }
    pending = Buffer.concat([pending, chunk]);
    let nl: number;
    while (!sinking && (nl = pending.indexOf(0x0a)) >= 0) {
      const line = pending.subarray(0, nl).toString('utf8');
      pending = pending.subarray(nl + 1);
      if (line === SINK_COMMAND) {
        sinking = true;
        received = pending.length;
        pending = Buffer.alloc(0);
      } else {
        socket.write(line + '\n');
      }
    }
  });
  socket.on('end', () => {
    if (sinking) socket.end(JSON.stringify({ received }) + '\n');
    else socket.end();
  });
}

/** Starts a TCP server; its closer is pushed to `closers`. */
export function listenTcp(req: ListenRequest, closers: Array<() => void>): Promise<void> {
  const server = net.createServer((socket) => serveTcpConnection(socket, req.name));
  closers.push(() => server.close());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: req.address, port: req.port, ipv6Only: true }, () => resolve());
  });
}

/** Starts a UDP server bound to req.address (so it knows the address it was asked on). */
export function listenUdp(req: ListenRequest, closers: Array<() => void>): Promise<void> {
  const socket = net.isIPv6(req.address)
    ? dgram.createSocket({ type: 'udp6', ipv6Only: true })
    : dgram.createSocket({ type: 'udp4' });
  closers.push(() => socket.close());
  socket.on('message', (_msg, rinfo) => {
    const hello: ServerHello = {
      server: req.name,
      proto: 'udp',
      local: { address: req.address, port: req.port },
      remote: { address: plainAddress(rinfo.address), port: rinfo.port },
    };
    socket.send(JSON.stringify(hello) + '\n', rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(req.port, req.address, () => resolve());
  });
}

