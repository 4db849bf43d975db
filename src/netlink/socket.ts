// A netlink socket on top of the npm `netlink` package's RawNetlinkSocket (one native socket, one
// sendmsg per send, one 'message' event per received datagram). It adds request/response matching:
// `exchange` sends a group of messages in one sendmsg and collects every message the kernel sends
// back until the reply to a chosen final sequence number is complete. Exchanges run one at a time.
// Options the binding cannot set (forced buffer sizes, extended/capped ACKs, NO_ENOBUFS) go through
// ./sockopt, which falls back to the plain options when the native addon is missing.
import { RawNetlinkSocket } from 'netlink';
import { NLMSG_DONE, NLMSG_ERROR, NLM_F_MULTI } from './constants';
import { NetlinkMessage, parseMessages } from './message';
import {
  NETLINK_CAP_ACK,
  NETLINK_EXT_ACK,
  NETLINK_NO_ENOBUFS,
  SOL_NETLINK,
  SOL_SOCKET,
  SO_RCVBUFFORCE,
  SO_SNDBUFFORCE,
  SocketOptionError,
  findNetlinkSocket,
  findNetlinkSocketFd,
  nativeSocketOptionsMissing,
  setSocketOption,
} from './sockopt';

const ENOPROTOOPT = 92;

export interface NetlinkSocketOptions {
  /** SO_RCVBUF in bytes; the kernel caps it at 2 * net.core.rmem_max. */
  recvBufferSize?: number;
  /** SO_SNDBUF in bytes; the kernel caps it at 2 * net.core.wmem_max. One batch must fit. */
  sendBufferSize?: number;
  /** Multicast groups to join. */
  groups?: number[];
  /** How long an exchange may wait for its final reply (ms). */
  timeoutMs?: number;
  /**
   * SO_SNDBUFFORCE in bytes (needs CAP_NET_ADMIN): a send buffer beyond 2 * net.core.wmem_max, so one
   * large batch fits in one sendmsg. Falls back to SO_SNDBUF on EPERM or without the native addon.
   */
  sendBufferForce?: number;
  /** SO_RCVBUFFORCE in bytes, beyond 2 * net.core.rmem_max; falls back like sendBufferForce. */
  recvBufferForce?: number;
  /** NETLINK_EXT_ACK: error replies carry the kernel's message and the offset of the bad attribute. */
  extAck?: boolean;
  /** NETLINK_CAP_ACK: error replies carry only the failed request's header, not its whole payload. */
  capAck?: boolean;
  /**
   * NETLINK_NO_ENOBUFS: a full receive buffer drops messages silently instead of raising ENOBUFS
   * (which npm netlink 0.3.0 turns into a process abort). Loss must then be detected otherwise:
   * `droppedMessages()`, or gaps in nf_tables generation ids.
   */
  noEnobufs?: boolean;
  /**
   * false: receive into a fixed buffer of `msgBufferSize` bytes instead of peeking at each datagram's
   * size first (npm netlink's default). A larger recvmsg buffer also lets the kernel build larger
   * dump chunks (it sizes them from the last recvmsg length, up to 32 KiB).
   */
  messagePeeking?: boolean;
  /** The fixed receive buffer when messagePeeking is false (npm netlink's default: 4096). */
  msgBufferSize?: number;
}

/** What the kernel actually got: forced sizes and netlink flags need the native addon. */
export interface AppliedSocketOptions {
  /** 'forced': SO_SNDBUFFORCE; 'plain': SO_SNDBUF (capped by net.core.wmem_max). */
  sendBuffer: 'forced' | 'plain';
  recvBuffer: 'forced' | 'plain';
  extAck: boolean;
  capAck: boolean;
  noEnobufs: boolean;
}

/** A failure of the socket itself (not an error reply from the kernel). */
export class NetlinkSocketError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly errno?: number,
  ) {
    super(message);
  }
}

interface PendingExchange {
  finalSeq: number;
  received: NetlinkMessage[];
  resolve(messages: NetlinkMessage[]): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class NetlinkSocket {
  private readonly raw: RawNetlinkSocket;
  private seq: number;
  private pending: PendingExchange | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly timeoutMs: number;
  private unsolicited: ((messages: NetlinkMessage[]) => void) | undefined;
  private errorHandler: ((err: NetlinkSocketError) => void) | undefined;
  private closed = false;
  /** The socket's fd, once looked up; null when the addon is missing (no fd is needed then). */
  private fd: number | null | undefined;
  /** What setsockopt actually applied (see NetlinkSocketOptions). */
  readonly applied: AppliedSocketOptions;

  constructor(
    private readonly protocol: number,
    options: NetlinkSocketOptions = {},
  ) {
    this.raw = new RawNetlinkSocket(protocol, {
      recvBufferSize: options.recvBufferSize ?? 4 << 20,
      sendBufferSize: options.sendBufferSize ?? 4 << 20,
      messagePeeking: options.messagePeeking ?? true,
      ...(options.msgBufferSize !== undefined ? { msgBufferSize: options.msgBufferSize } : {}),
    });
    try {
      // Before joining groups: with NO_ENOBUFS requested, no overrun may ever raise ENOBUFS.
      this.applied = this.configure(options);
    } catch (err) {
      this.raw.close();
      throw err;
    }
    this.timeoutMs = options.timeoutMs ?? 60_000;
    // Start from a time-based sequence so replies to an earlier process on a reused port never match.
    this.seq = (Date.now() & 0x3fffffff) >>> 0;
    for (const g of options.groups ?? []) this.raw.addMembership(g);
    this.raw.on('message', (datagram) => this.receive(datagram));
    this.raw.on('truncatedMessage', (datagram, info) =>
      this.fail(
        new NetlinkSocketError(
          `netlink receive: a ${info.truncated ?? '?'}-byte datagram was truncated to ${datagram.length} bytes (raise msgBufferSize)`,
          'NETLINK_TRUNCATED',
        ),
      ),
    );
    this.raw.on('error', (err) => this.fail(new NetlinkSocketError(`netlink receive: ${err.code}`, err.code, err.errno)));
  }

  /** The socket's netlink port ID (what the kernel records as the sender, and binds OWNER to). */
  get portId(): number {
    return this.raw.address().port;
  }

  get sendBufferSize(): number {
    return this.raw.getSendBufferSize();
  }

  get recvBufferSize(): number {
    return this.raw.getRecvBufferSize();
  }

  /**
   * SO_SNDBUFFORCE now, e.g. sized to the next batch as nft does (mnl_set_sndbuffer). Falls back to
   * SO_SNDBUF, capped by net.core.wmem_max, on EPERM or without the addon.
   */
  forceSendBufferSize(bytes: number): 'forced' | 'plain' {
    return forceBuffer(this.nativeFd(), SO_SNDBUFFORCE, bytes, (n) => this.raw.setSendBufferSize(n));
  }

  /** SO_RCVBUFFORCE now; falls back like forceSendBufferSize. */
  forceRecvBufferSize(bytes: number): 'forced' | 'plain' {
    return forceBuffer(this.nativeFd(), SO_RCVBUFFORCE, bytes, (n) => this.raw.setRecvBufferSize(n));
  }

  /**
   * How many messages the kernel dropped for this socket because its receive buffer was full (the
   * Drops column of /proc/self/net/netlink). It counts with and without NETLINK_NO_ENOBUFS.
   */
  droppedMessages(): number {
    return findNetlinkSocket(this.protocol, this.portId).drops;
  }

  setSendBufferSize(bytes: number): void {
    this.raw.setSendBufferSize(bytes);
  }

  setRecvBufferSize(bytes: number): void {
    this.raw.setRecvBufferSize(bytes);
  }

  /** A fresh sequence number for a message about to be sent. */
  nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0 || 1;
    return this.seq;
  }

  /** Receives datagrams that do not belong to an exchange (multicast events). */
  onUnsolicited(handler: (messages: NetlinkMessage[]) => void): void {
    this.unsolicited = handler;
  }

  /** Receives socket-level errors outside an exchange (ENOBUFS on a monitor socket, say). */
  onError(handler: (err: NetlinkSocketError) => void): void {
    this.errorHandler = handler;
  }

  /** Sends the buffers as one datagram (one sendmsg with an iovec). */
  send(buffers: Uint8Array[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.raw.send(buffers, {}, (err) => {
        if (!err) return resolve();
        const hint = err.code === 'EMSGSIZE' ? ' (the datagram is larger than the socket send buffer)' : '';
        reject(new NetlinkSocketError(`netlink send: ${err.code}${hint}`, err.code, err.errno));
      });
    });
  }

  /**
   * Sends `buffers` in one sendmsg and resolves with every message received until the reply with
   * sequence `finalSeq` is complete: its NLMSG_DONE for a dump, its NLMSG_ERROR, or its single
   * non-multipart message.
   */
  exchange(buffers: Uint8Array[], finalSeq: number): Promise<NetlinkMessage[]> {
    const run = () => this.runExchange(buffers, finalSeq);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Closes the socket. The native close runs on the next event-loop turn: closed from inside the
   * binding's own receive callback (a `finally { close() }` right after an exchange settled by an
   * overrun), npm netlink 0.3.0 crashes the process with SIGSEGV.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fail(new NetlinkSocketError('netlink socket closed', 'ECLOSED'));
    setImmediate(() => this.raw.close());
  }

  private configure(o: NetlinkSocketOptions): AppliedSocketOptions {
    const applied: AppliedSocketOptions = { sendBuffer: 'plain', recvBuffer: 'plain', extAck: false, capAck: false, noEnobufs: false };
    if (o.sendBufferForce !== undefined) applied.sendBuffer = this.forceSendBufferSize(o.sendBufferForce);
    if (o.recvBufferForce !== undefined) applied.recvBuffer = this.forceRecvBufferSize(o.recvBufferForce);
    applied.extAck = !!o.extAck && netlinkFlag(this.nativeFd(), NETLINK_EXT_ACK);
    applied.capAck = !!o.capAck && netlinkFlag(this.nativeFd(), NETLINK_CAP_ACK);
    applied.noEnobufs = !!o.noEnobufs && netlinkFlag(this.nativeFd(), NETLINK_NO_ENOBUFS);
    return applied;
  }

  /** The fd for the addon's setsockopt; undefined without the addon (warned about once by ./sockopt). */
  private nativeFd(): number | undefined {
    if (this.fd === undefined) this.fd = nativeSocketOptionsMissing() ? null : findNetlinkSocketFd(this.protocol, this.portId);
    return this.fd ?? undefined;
  }

  private runExchange(buffers: Uint8Array[], finalSeq: number): Promise<NetlinkMessage[]> {
    if (this.closed) return Promise.reject(new NetlinkSocketError('netlink socket closed', 'ECLOSED'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(new NetlinkSocketError(`netlink: no reply to seq ${finalSeq} within ${this.timeoutMs} ms`, 'ETIMEDOUT'));
      }, this.timeoutMs);
      this.pending = { finalSeq, received: [], resolve, reject, timer };
      this.send(buffers).catch((err: Error) => this.fail(err));
    });
  }

  private receive(datagram: Buffer): void {
    let messages: NetlinkMessage[];
    try {
      messages = parseMessages(datagram);
    } catch (err) {
      return this.fail(err as Error);
    }
    const p = this.pending;
    if (!p) {
      this.unsolicited?.(messages);
      return;
    }
    for (const m of messages) {
      p.received.push(m);
      if (m.seq === p.finalSeq && isFinal(m)) {
        clearTimeout(p.timer);
        this.pending = undefined;
        p.resolve(p.received);
        return;
      }
    }
  }

  private fail(err: Error): void {
    const p = this.pending;
    if (p) {
      clearTimeout(p.timer);
      this.pending = undefined;
      p.reject(err);
    } else if (err instanceof NetlinkSocketError) {
      this.errorHandler?.(err);
    }
  }
}

/** SO_*BUFFORCE, or the plain option when the addon is missing or we lack CAP_NET_ADMIN (as nft does). */
function forceBuffer(fd: number | undefined, option: number, bytes: number, plain: (bytes: number) => void): 'forced' | 'plain' {
  if (fd !== undefined) {
    try {
      setSocketOption(fd, SOL_SOCKET, option, bytes);
      return 'forced';
    } catch (err) {
      if (!(err instanceof SocketOptionError && err.isPermissionDenied)) throw err;
    }
  }
  plain(bytes);
  return 'plain';
}

/** Turns a SOL_NETLINK flag on; false when the addon is missing or the kernel predates the option. */
function netlinkFlag(fd: number | undefined, option: number): boolean {
  if (fd === undefined) return false;
  try {
    setSocketOption(fd, SOL_NETLINK, option, 1);
    return true;
  } catch (err) {
    if (err instanceof SocketOptionError && err.errno === ENOPROTOOPT) return false;
    throw err;
  }
}

function isFinal(m: NetlinkMessage): boolean {
  return m.type === NLMSG_DONE || m.type === NLMSG_ERROR || (m.flags & NLM_F_MULTI) === 0;
}

