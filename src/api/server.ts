// Serves an AgentService as gRPC (flockguard.v1.Agent) on a Unix socket. We accept connections on
// our own net.Server and hand them to grpc-js through createConnectionInjector (gRFC L114): that
// lets us create the socket file with the exact mode and group, and keeps one place where every
// connection passes. Malformed input stays contained: a bad HTTP/2 frame kills only that session,
// a message over maxMessageBytes fails only that call (RESOURCE_EXHAUSTED), a protobuf that does
// not decode fails only that call.
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import * as convert from './convert';
import { DEFAULT_MAX_MESSAGE_BYTES } from './defaults';
import { errorToStatus } from './errors';
import { CLAIMED_PID_KEY, CLAIMED_UID_KEY, CLAIMED_USER_KEY } from './metadata';
import { agentServiceDefinition, type WireMessage } from './proto';
import { listenOnSocketFile, prepareSocketPath, resolveGroup } from './socket-file';
import type { AgentService, CallContext, PeerInfo, StreamSink } from './service';

export interface ApiServerOptions {
  socketPath: string;
  /** File mode of the socket; 0o660 by default. */
  mode?: number;
  /** Group (name or gid) given to the socket; unset keeps the agent's own group. */
  group?: string | number;
  maxMessageBytes?: number;
  maxConnections?: number;
  /**
   * The agent pings each connection after this long without a ping (HTTP/2 PING) and drops it
   * when no answer comes within the same time: a peer stuck mid-frame, or gone without closing,
   * cannot hold one of maxConnections for ever. Clients answer pings by themselves, so idle but
   * live streams (monitor) stay. Default 60 s.
   */
  keepaliveMs?: number;
  /** Told about connection-level failures (bad frames, resets); they never reach the service. */
  onConnectionError?: (err: Error) => void;
}

export interface ApiServer {
  readonly socketPath: string;
  /** Stops accepting, cancels open calls and streams, removes nothing else. */
  close(): Promise<void>;
}

type UnaryHandler = grpc.handleUnaryCall<WireMessage, WireMessage>;
type StreamHandler = grpc.handleServerStreamingCall<WireMessage, WireMessage>;

function firstNumber(metadata: grpc.Metadata, key: string): number | undefined {
  const value = metadata.get(key)[0];
  if (typeof value !== 'string' || !/^\d{1,10}$/.test(value)) return undefined;
  return Number(value);
}

/** The peer as the client describes itself. Node exposes no SO_PEERCRED, so this is a claim only. */
function claimedPeer(metadata: grpc.Metadata): PeerInfo {
  const peer: PeerInfo = { claimed: true };
  const uid = firstNumber(metadata, CLAIMED_UID_KEY);
  const pid = firstNumber(metadata, CLAIMED_PID_KEY);
  const user = metadata.get(CLAIMED_USER_KEY)[0];
  if (uid !== undefined) peer.uid = uid;
  if (pid !== undefined) peer.pid = pid;
  if (typeof user === 'string' && user !== '') peer.user = user.slice(0, 64);
  return peer;
}

function callContext(call: grpc.ServerUnaryCall<WireMessage, WireMessage> | grpc.ServerWritableStream<WireMessage, WireMessage>): CallContext {
  const controller = new AbortController();
  call.on('cancelled', () => controller.abort());
  return { peer: claimedPeer(call.metadata), signal: controller.signal };
}

function unary<Req, Res>(
  fromWire: (w: WireMessage) => Req,
  handle: (req: Req, ctx: CallContext) => Promise<Res>,
  toWire: (r: Res) => WireMessage,
): UnaryHandler {
  return (call, callback) => {
    const ctx = callContext(call);
    Promise.resolve()
      .then(() => handle(fromWire(call.request), ctx))
      .then(
        (result) => callback(null, toWire(result)),
        (err: unknown) => callback(errorToStatus(err, () => new grpc.Metadata())),
      );
  };
}

function streaming<Req, Item>(
  fromWire: (w: WireMessage) => Req,
  handle: (req: Req, sink: StreamSink<Item>, ctx: CallContext) => Promise<void>,
  toWire: (item: Item) => WireMessage,
): StreamHandler {
  return (call) => {
    const ctx = callContext(call);
    const open = (): boolean => !ctx.signal.aborted && !call.writableEnded && !call.destroyed;
    const sink: StreamSink<Item> = {
      write: (item) => {
        if (open()) call.write(toWire(item));
      },
    };
    Promise.resolve()
      .then(() => handle(fromWire(call.request), sink, ctx))
      .then(
        () => {
          if (open()) call.end();
        },
        (err: unknown) => {
          if (open()) call.emit('error', errorToStatus(err, () => new grpc.Metadata()));
        },
      );
  };
}

const noRequest = (): undefined => undefined;

function handlers(service: AgentService): grpc.UntypedServiceImplementation {
  return {
    apply: unary(convert.applyRequest.fromWire, (r, c) => service.apply(r, c), convert.mutationResult.toWire),
    delete: unary(convert.deleteRequest.fromWire, (r, c) => service.delete(r, c), convert.mutationResult.toWire),
    get: unary(convert.getRequest.fromWire, (r, c) => service.get(r, c), convert.getResult.toWire),
    diff: unary(convert.diffRequest.fromWire, (r, c) => service.diff(r, c), convert.diffResult.toWire),
    status: unary(noRequest, (_r, c) => service.status(c), convert.agentStatus.toWire),
    history: unary(
      (w) => (typeof w.limit === 'number' && w.limit > 0 ? w.limit : undefined),
      (limit, c) => service.history(limit, c),
      (revisions) => ({ revisions: revisions.map(convert.revisionSummary.toWire) }),
    ),
    rollback: unary(convert.rollbackRequest.fromWire, (r, c) => service.rollback(r, c), convert.mutationResult.toWire),
    netsetAdd: unary(convert.netsetRequest.fromWire, (r, c) => service.netsetAdd(r, c), convert.mutationResult.toWire),
    netsetRemove: unary(convert.netsetRequest.fromWire, (r, c) => service.netsetRemove(r, c), convert.mutationResult.toWire),
    explain: unary(convert.explainRequest.fromWire, (r, c) => service.explain(r, c), convert.explainResult.toWire),
    counters: unary(
      (w) => (typeof w.policy === 'string' && w.policy !== '' ? w.policy : undefined),
      (policy, c) => service.counters(policy, c),
      convert.countersResult.toWire,
    ),
    trace: streaming(convert.traceRequest.fromWire, (r, s, c) => service.trace(r, s, c), convert.traceLine.toWire),
    monitor: streaming(noRequest, (_r, s, c) => service.monitor(s, c), convert.changeEvent.toWire),
  };
}

/** Listens on options.socketPath and serves `service` until close(). */
export async function startApiServer(service: AgentService, options: ApiServerOptions): Promise<ApiServer> {
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const grpcServer = new grpc.Server({
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
    'grpc.keepalive_time_ms': options.keepaliveMs ?? 60_000,
    'grpc.keepalive_timeout_ms': options.keepaliveMs ?? 60_000,
  });
  grpcServer.addService(agentServiceDefinition(), handlers(service));
  const injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());

  const sockets = new Set<net.Socket>();
  const netServer = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A peer that resets or sends garbage must not become an uncaught 'error' event.
    socket.on('error', (err) => options.onConnectionError?.(err));
    injector.injectConnection(socket);
  });
  netServer.maxConnections = options.maxConnections ?? 128;

  const gid = options.group === undefined ? undefined : resolveGroup(options.group);
  await prepareSocketPath(options.socketPath, gid);
  await listenOnSocketFile(netServer, options.socketPath, options.mode ?? 0o660, gid);

  return {
    socketPath: options.socketPath,
    close: async () => {
      const closed = new Promise<void>((resolve) => netServer.close(() => resolve()));
      injector.destroy();
      grpcServer.forceShutdown();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
