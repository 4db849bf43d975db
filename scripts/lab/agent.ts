// The lab agent: one per lab namespace, started by Lab with `ip netns exec <ns> node agent.js`.
// It serves "who am I" echo servers and makes client connections on the parent's behalf, speaking
// the JSON-lines protocol of agent-protocol.ts over stdin/stdout. It exits when stdin closes, so it
// never outlives the process that created the lab, even one killed with SIGKILL.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as readline from 'node:readline';
import {
  SINK_COMMAND,
  type AgentRequest,
  type AgentResponse,
  type BulkOutcome,
  type BulkRequest,
  type ConnectOutcome,
  type ConnectRequest,
  type FailureReason,
  type ListenRequest,
  type RateOutcome,
  type RateRequest,
  type ServerHello,
} from './agent-protocol';

const closers: Array<() => void> = [];

function plainAddress(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}

function send(response: AgentResponse): void {
  process.stdout.write(JSON.stringify(response) + '\n');
}

// ---------------------------------------------------------------- servers

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

function listenTcp(req: ListenRequest): Promise<void> {
  const server = net.createServer((socket) => serveTcpConnection(socket, req.name));
  closers.push(() => server.close());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: req.address, port: req.port, ipv6Only: true }, () => resolve());
  });
}

function listenUdp(req: ListenRequest): Promise<void> {
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

// ---------------------------------------------------------------- clients

function reasonOf(err: NodeJS.ErrnoException): FailureReason {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'unreachable';
    case 'ECONNRESET':
      return 'reset';
    default:
      return 'error';
  }
}

function target(req: { proto: string; address: string; port: number }): string {
  return `${req.proto} ${net.isIPv6(req.address) ? `[${req.address}]` : req.address}:${req.port}`;
}

function connectTcp(req: ConnectRequest): Promise<ConnectOutcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host: req.address, port: req.port });
    let buffered = '';
    const finish = (outcome: Omit<ConnectOutcome, 'elapsedMs'>): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...outcome, elapsedMs: Date.now() - started });
    };
    const timer = setTimeout(
      () => finish({ ok: false, reason: 'timeout', detail: `${target(req)}: no answer within ${req.timeoutMs} ms` }),
      req.timeoutMs,
    );
    socket.on('error', (err: NodeJS.ErrnoException) =>
      finish({ ok: false, reason: reasonOf(err), detail: `${target(req)}: ${err.code ?? err.message}` }),
    );
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      const hello = parseHello(buffered.slice(0, nl));
      finish(hello ? { ok: true, hello, detail: describeHello(req, hello) } : { ok: true, detail: notLabServer(req, buffered) });
    });
    socket.on('end', () => finish({ ok: false, reason: 'reset', detail: `${target(req)}: closed before the hello` }));
  });
}

function connectUdp(req: ConnectRequest): Promise<ConnectOutcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = dgram.createSocket(net.isIPv6(req.address) ? 'udp6' : 'udp4');
    const finish = (outcome: Omit<ConnectOutcome, 'elapsedMs'>): void => {
      clearTimeout(timer);
      socket.close();
      resolve({ ...outcome, elapsedMs: Date.now() - started });
    };
    const timer = setTimeout(
      () => finish({ ok: false, reason: 'timeout', detail: `${target(req)}: no answer within ${req.timeoutMs} ms` }),
      req.timeoutMs,
    );
    socket.on('error', (err: NodeJS.ErrnoException) =>
      finish({ ok: false, reason: reasonOf(err), detail: `${target(req)}: ${err.code ?? err.message}` }),
    );
    socket.on('message', (msg) => {
      const hello = parseHello(msg.toString('utf8'));
      finish(hello ? { ok: true, hello, detail: describeHello(req, hello) } : { ok: true, detail: notLabServer(req, msg.toString('utf8')) });
    });
    // A connected UDP socket reports ICMP port/host unreachable as an error on the next operation.
    socket.connect(req.port, req.address, () => socket.send('WHO\n'));
  });
}

/** A lab server's hello, or undefined when something else answered. */
function parseHello(text: string): ServerHello | undefined {
  try {
    const hello = JSON.parse(text) as ServerHello;
    return typeof hello.server === 'string' && hello.local && hello.remote ? hello : undefined;
  } catch {
    return undefined;
  }
}

function notLabServer(req: ConnectRequest, answer: string): string {
  return `${target(req)}: answered, but not by a lab server: ${JSON.stringify(answer.slice(0, 80))}`;
}

function describeHello(req: ConnectRequest, hello: ServerHello): string {
  const fmt = (e: { address: string; port: number }): string =>
    net.isIPv6(e.address) ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
  return `${target(req)}: answered by ${hello.server} at ${fmt(hello.local)}, which saw the client as ${fmt(hello.remote)}`;
}

function receivedCount(line: string): number | undefined {
  try {
    const { received } = JSON.parse(line) as { received?: unknown };
    return typeof received === 'number' ? received : undefined;
  } catch {
    return undefined;
  }
}

/** Streams to a lab TCP server in SINK mode for durationMs; the server counts what arrived. */
function bulk(req: BulkRequest): Promise<BulkOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: req.address, port: req.port });
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    let buffered = '';
    let helloSeen = false;
    let started = 0;
    let done = false;
    const finish = (outcome: BulkOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(guard);
      socket.destroy();
      resolve(outcome);
    };
    const guard = setTimeout(
      () => finish({ ok: false, detail: `bulk to ${target({ proto: 'tcp', ...req })}: no result within the timeout`, bytes: 0, seconds: 0 }),
      req.durationMs + req.timeoutMs,
    );
    const pump = (): void => {
      while (Date.now() - started < req.durationMs) {
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
      socket.end();
    };
    socket.on('error', (err: NodeJS.ErrnoException) =>
      finish({ ok: false, detail: `bulk to ${target({ proto: 'tcp', ...req })}: ${err.code ?? err.message}`, bytes: 0, seconds: 0 }),
    );
    socket.on('data', (data: Buffer) => {
      buffered += data.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!helloSeen) {
          if (!parseHello(line)) {
            finish({ ok: false, detail: `bulk to ${target({ proto: 'tcp', ...req })}: not a lab server`, bytes: 0, seconds: 0 });
            return;
          }
          helloSeen = true;
          socket.write(SINK_COMMAND + '\n');
          started = Date.now();
          pump();
        } else {
          const received = receivedCount(line);
          const seconds = (Date.now() - started) / 1000;
          finish(
            received === undefined
              ? { ok: false, detail: `bulk to ${target({ proto: 'tcp', ...req })}: unexpected answer ${JSON.stringify(line.slice(0, 80))}`, bytes: 0, seconds: 0 }
              : { ok: true, detail: `${received} bytes in ${seconds.toFixed(3)} s`, bytes: received, seconds },
          );
        }
      }
    });
  });
}

/** New TCP connections per second: `concurrency` workers connect, wait for the hello, close, repeat. */
async function rate(req: RateRequest): Promise<RateOutcome> {
  const started = Date.now();
  const outcome: RateOutcome = { connections: 0, failures: 0, seconds: 0 };
  const worker = async (): Promise<void> => {
    while (Date.now() - started < req.durationMs) {
      const r = await connectTcp({ op: 'connect', proto: 'tcp', address: req.address, port: req.port, timeoutMs: req.timeoutMs });
      if (r.ok) outcome.connections++;
      else {
        outcome.failures++;
        outcome.firstFailure ??= r.detail;
      }
    }
  };
  await Promise.all(Array.from({ length: req.concurrency }, worker));
  outcome.seconds = (Date.now() - started) / 1000;
  return outcome;
}

// ---------------------------------------------------------------- dispatch

async function handle(id: number, req: AgentRequest): Promise<AgentResponse> {
  switch (req.op) {
    case 'listen':
      await (req.proto === 'tcp' ? listenTcp(req) : listenUdp(req));
      return { id, op: 'listen', ok: true };
    case 'connect':
      return { id, op: 'connect', result: await (req.proto === 'tcp' ? connectTcp(req) : connectUdp(req)) };
    case 'bulk':
      return { id, op: 'bulk', result: await bulk(req) };
    case 'rate':
      return { id, op: 'rate', result: await rate(req) };
  }
}

function main(): void {
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const { id, ...req } = JSON.parse(line) as AgentRequest & { id: number };
    handle(id, req as AgentRequest).then(send, (err: NodeJS.ErrnoException) =>
      send({ id, op: 'error', message: err.message, code: err.code ?? 'LAB_AGENT_ERROR' }),
    );
  });
  lines.on('close', () => {
    for (const close of closers) close();
    process.exit(0);
  });
}

main();
