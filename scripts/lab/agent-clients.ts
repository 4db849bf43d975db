// The agent's client side: single connections (the hello tells who answered), bulk transfers and
// connection-rate runs, each reporting failures as reasons instead of throwing.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import {
  SINK_COMMAND,
  type BulkOutcome,
  type BulkRequest,
  type ConnectOutcome,
  type ConnectRequest,
  type FailureReason,
  type RateOutcome,
  type RateRequest,
  type ServerHello,
} from './agent-protocol';

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

export function connectTcp(req: ConnectRequest): Promise<ConnectOutcome> {
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

export function connectUdp(req: ConnectRequest): Promise<ConnectOutcome> {
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
export function bulk(req: BulkRequest): Promise<BulkOutcome> {
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
export async function rate(req: RateRequest): Promise<RateOutcome> {
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

