// The typed client of flockguard.v1.Agent over the agent's Unix socket. Every call sends the
// caller's uid/pid/user name as claimed credentials (see server.ts); failures reject with a
// ServiceError whose `code` is the agent's (or AGENT_UNREACHABLE / AGENT_PERMISSION_DENIED when
// the socket cannot be used at all), and whose message says what to do next.
import * as net from 'node:net';
import * as os from 'node:os';
import * as grpc from '@grpc/grpc-js';
import * as convert from './convert';
import { statusToError } from './errors';
import { agentServiceDefinition, type WireMessage } from './proto';
import { CLAIMED_PID_KEY, CLAIMED_UID_KEY, CLAIMED_USER_KEY, ERROR_CODE_KEY } from './metadata';
import {
  ServiceError,
  type AgentStatus,
  type ApplyRequest,
  type ChangeEvent,
  type CountersResult,
  type DeleteRequest,
  type DiffRequest,
  type DiffResult,
  type ExplainRequest,
  type ExplainResult,
  type GetRequest,
  type GetResult,
  type MutationResult,
  type NetsetRequest,
  type RevisionSummary,
  type RollbackRequest,
  type TraceLine,
  type TraceRequest,
} from './service';

type UnaryMethod = (
  request: WireMessage,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response?: WireMessage) => void,
) => grpc.ClientUnaryCall;
type StreamMethod = (request: WireMessage, metadata: grpc.Metadata, options?: grpc.CallOptions) => grpc.ClientReadableStream<WireMessage>;

export interface ConnectOptions {
  /** Milliseconds to wait for the socket to accept; default 5000. */
  connectTimeoutMs?: number;
  maxMessageBytes?: number;
}

/** A server stream: async-iterate the items; cancel() ends it early (Ctrl-C). */
export interface ApiStream<T> extends AsyncIterable<T> {
  cancel(): void;
}

function claimedMetadata(): grpc.Metadata {
  const metadata = new grpc.Metadata();
  const uid = process.getuid?.();
  if (uid !== undefined) metadata.set(CLAIMED_UID_KEY, String(uid));
  metadata.set(CLAIMED_PID_KEY, String(process.pid));
  try {
    metadata.set(CLAIMED_USER_KEY, os.userInfo().username);
  } catch {
    // No passwd entry for this uid (containers): the uid alone identifies the caller.
  }
  return metadata;
}

/** The error a user sees when the socket itself is the problem, by the errno of connect(2). */
function transportError(socketPath: string, errno: string | undefined): ServiceError {
  if (errno === 'EACCES' || errno === 'EPERM') {
    return new ServiceError(
      'AGENT_PERMISSION_DENIED',
      `permission denied on ${socketPath}: run as root or as a member of the socket's group (usually flockguard)`,
      { status: 'PERMISSION_DENIED' },
    );
  }
  return new ServiceError(
    'AGENT_UNREACHABLE',
    `cannot reach the agent at ${socketPath}${errno ? ` (${errno})` : ''}: is it running? ` +
      '(systemctl status flockguard; --socket or FLOCKGUARD_SOCKET choose another path)',
    { status: 'UNAVAILABLE' },
  );
}

/** Resolves with the errno of a plain connect(2) to the socket, or undefined when it accepts. */
function probe(socketPath: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'ECONNREFUSED'));
  });
}

export class ApiClient {
  private readonly client: grpc.Client;
  readonly socketPath: string;

  private constructor(client: grpc.Client, socketPath: string) {
    this.client = client;
    this.socketPath = socketPath;
  }

  /** Connects to the agent's socket; rejects with AGENT_UNREACHABLE / AGENT_PERMISSION_DENIED. */
  static async connect(socketPath: string, options: ConnectOptions = {}): Promise<ApiClient> {
    // grpc-js reports an absent or forbidden socket only as a timeout; connect(2) says which it is.
    const errno = await probe(socketPath);
    if (errno !== undefined) throw transportError(socketPath, errno);
    const Constructor = grpc.makeGenericClientConstructor(agentServiceDefinition(), 'Agent');
    const max = options.maxMessageBytes ?? -1;
    const client = new Constructor(`unix:${socketPath}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': max,
      'grpc.max_send_message_length': max,
    });
    const deadline = Date.now() + (options.connectTimeoutMs ?? 5000);
    try {
      await new Promise<void>((resolve, reject) => client.waitForReady(deadline, (err) => (err ? reject(err) : resolve())));
    } catch {
      client.close();
      throw transportError(socketPath, 'ETIMEDOUT');
    }
    return new ApiClient(client, socketPath);
  }

  close(): void {
    this.client.close();
  }

  private unary<Res>(method: string, request: WireMessage, fromWire: (w: WireMessage) => Res): Promise<Res> {
    const fn = (this.client as unknown as Record<string, UnaryMethod>)[method].bind(this.client);
    return new Promise<Res>((resolve, reject) => {
      fn(request, claimedMetadata(), {}, (err, response) => {
        if (err) {
          reject(this.callError(err));
          return;
        }
        try {
          resolve(fromWire(response ?? {}));
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  private callError(err: grpc.ServiceError): ServiceError {
    const hasAgentCode = (err.metadata?.get(ERROR_CODE_KEY).length ?? 0) > 0;
    if (!hasAgentCode && err.code === grpc.status.UNAVAILABLE) return transportError(this.socketPath, undefined);
    return statusToError(err);
  }

  private stream<Item>(method: string, request: WireMessage, fromWire: (w: WireMessage) => Item): ApiStream<Item> {
    const fn = (this.client as unknown as Record<string, StreamMethod>)[method].bind(this.client);
    const call = fn(request, claimedMetadata());
    let cancelled = false;
    const callError = (err: grpc.ServiceError): ServiceError => this.callError(err);
    return {
      cancel: () => {
        cancelled = true;
        call.cancel();
      },
      [Symbol.asyncIterator]: async function* () {
        try {
          for await (const item of call as AsyncIterable<WireMessage>) yield fromWire(item);
        } catch (err) {
          if (cancelled && (err as grpc.ServiceError).code === grpc.status.CANCELLED) return;
          throw callError(err as grpc.ServiceError);
        }
      },
    };
  }

  apply(req: ApplyRequest): Promise<MutationResult> {
    return this.unary('apply', convert.applyRequest.toWire(req), convert.mutationResult.fromWire);
  }

  delete(req: DeleteRequest): Promise<MutationResult> {
    return this.unary('delete', convert.deleteRequest.toWire(req), convert.mutationResult.fromWire);
  }

  get(req: GetRequest): Promise<GetResult> {
    return this.unary('get', convert.getRequest.toWire(req), convert.getResult.fromWire);
  }

  diff(req: DiffRequest): Promise<DiffResult> {
    return this.unary('diff', convert.diffRequest.toWire(req), convert.diffResult.fromWire);
  }

  status(): Promise<AgentStatus> {
    return this.unary('status', {}, convert.agentStatus.fromWire);
  }

  history(limit?: number): Promise<RevisionSummary[]> {
    return this.unary('history', { limit: limit ?? 0 }, (w) =>
      (Array.isArray(w.revisions) ? (w.revisions as WireMessage[]) : []).map(convert.revisionSummary.fromWire),
    );
  }

  rollback(req: RollbackRequest): Promise<MutationResult> {
    return this.unary('rollback', convert.rollbackRequest.toWire(req), convert.mutationResult.fromWire);
  }

  netsetAdd(req: NetsetRequest): Promise<MutationResult> {
    return this.unary('netsetAdd', convert.netsetRequest.toWire(req), convert.mutationResult.fromWire);
  }

  netsetRemove(req: NetsetRequest): Promise<MutationResult> {
    return this.unary('netsetRemove', convert.netsetRequest.toWire(req), convert.mutationResult.fromWire);
  }

  explain(req: ExplainRequest): Promise<ExplainResult> {
    return this.unary('explain', convert.explainRequest.toWire(req), convert.explainResult.fromWire);
  }

  counters(policy?: string): Promise<CountersResult> {
    return this.unary('counters', { policy: policy ?? '' }, convert.countersResult.fromWire);
  }

  trace(req: TraceRequest): ApiStream<TraceLine> {
    return this.stream('trace', convert.traceRequest.toWire(req), convert.traceLine.fromWire);
  }

  monitor(): ApiStream<ChangeEvent> {
    return this.stream('monitor', {}, convert.changeEvent.fromWire);
  }
}
