// A netlink socket on top of the npm `netlink` package's RawNetlinkSocket (one native socket, one
// sendmsg per send, one 'message' event per received datagram). It adds request/response matching:
// `exchange` sends a group of messages in one sendmsg and collects every message the kernel sends
// back until the reply to a chosen final sequence number is complete. Exchanges run one at a time.
import { RawNetlinkSocket } from 'netlink';
import { NLMSG_DONE, NLMSG_ERROR, NLM_F_MULTI } from './constants';
import { NetlinkMessage, parseMessages } from './message';

export interface NetlinkSocketOptions {
  /** SO_RCVBUF in bytes; the kernel caps it at 2 * net.core.rmem_max. */
  recvBufferSize?: number;
  /** SO_SNDBUF in bytes; the kernel caps it at 2 * net.core.wmem_max. One batch must fit. */
  sendBufferSize?: number;
  /** Multicast groups to join. */
  groups?: number[];
  /** How long an exchange may wait for its final reply (ms). */
  timeoutMs?: number;
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

  constructor(protocol: number, options: NetlinkSocketOptions = {}) {
    this.raw = new RawNetlinkSocket(protocol, {
      recvBufferSize: options.recvBufferSize ?? 4 << 20,
      sendBufferSize: options.sendBufferSize ?? 4 << 20,
    });
    this.timeoutMs = options.timeoutMs ?? 60_000;
    // Start from a time-based sequence so replies to an earlier process on a reused port never match.
    this.seq = (Date.now() & 0x3fffffff) >>> 0;
    for (const g of options.groups ?? []) this.raw.addMembership(g);
    this.raw.on('message', (datagram) => this.receive(datagram));
    this.raw.on('error', (err) => this.fail(new NetlinkSocketError(`netlink receive: ${err.code}`, err.code, err.errno)));
  }

  /** The socket's netlink port ID (what the kernel records as the sender, and binds OWNER to). */
  get portId(): number {
    return this.raw.address().port;
  }

  get sendBufferSize(): number {
    return this.raw.getSendBufferSize();
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

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fail(new NetlinkSocketError('netlink socket closed', 'ECLOSED'));
    this.raw.close();
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

function isFinal(m: NetlinkMessage): boolean {
  return m.type === NLMSG_DONE || m.type === NLMSG_ERROR || (m.flags & NLM_F_MULTI) === 0;
}

