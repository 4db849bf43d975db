// Ruleset events (NFNLGRP_NFTABLES): the kernel multicasts one message per object change at commit
// time, then one NEWGEN closing the transaction with the committing process's pid and comm
// (nf_tables_api.c nf_tables_commit, nf_tables_gen_notify; nft monitor.c). Events are buffered until
// that NEWGEN and delivered as one 'generation', as gnft's generational monitor does. A monitor has a
// socket of its own: the client's socket must never fill up with events.
//
// When the receive buffer overflows, the kernel drops events. Without NETLINK_NO_ENOBUFS it also
// raises ENOBUFS, which npm netlink 0.3.0 turns into a process abort (its poll handler throws from
// native code), so the socket asks for NO_ENOBUFS and loss is detected instead, and reported as
// 'resync' (nft monitor's "We lost some netlink events!"):
// - a NEWGEN whose id does not follow the previous one: whole transactions were lost;
// - the socket's drop counter grew: some events were lost, possibly of a transaction whose NEWGEN
//   did arrive, or of the last transaction, whose NEWGEN no later id would reveal (hence a timer).
// Without the native socket-option addon there is no NO_ENOBUFS, and the receive buffer must hold the
// biggest burst (nft's 16 MiB, capped by the kernel at 2 * net.core.rmem_max).
import { EventEmitter } from 'node:events';
import { AttributeWriter, NetlinkMessage, NetlinkSocket, NetlinkSocketError } from '../netlink';
import {
  Generation,
  NFNLGRP_NFTABLES,
  NftMessage,
  decodeChain,
  decodeGen,
  decodeRule,
  decodeSet,
  decodeSetElements,
  decodeTable,
  encodeGetGen,
  parseNftMessage,
} from '../nftables';
import { Chain, Family, NftSet, Rule, SetElement, Table } from '../nftables/model';
import { NETLINK_NETFILTER } from './client';
import { NftError } from './errors';

export interface MonitorEvent {
  op: 'new' | 'delete';
  kind: 'table' | 'chain' | 'rule' | 'set' | 'element';
  family: Family;
  table: string;
  object: Table | Chain | Rule | NftSet | { set: string; elements: SetElement[] };
}

export interface GenerationEvent {
  id: number;
  pid: number;
  procName: string;
  events: MonitorEvent[];
}

/** What a monitor needs of its socket (a NetlinkSocket, or a fake in unit tests). */
export type EventSocket = Pick<NetlinkSocket, 'onUnsolicited' | 'onError' | 'close' | 'droppedMessages'>;

/** nft uses 16 MiB (NFTABLES_NLEVENT_BUFSIZ). */
const DEFAULT_RECV_BUFFER = 16 << 20;
/** How often the drop counter is read while no NEWGEN arrives (the loss of a last transaction). */
const DROP_CHECK_MS = 1000;

/** The generation id after `id`: nf_tables_commit skips 0 when base_seq wraps. */
export function nextGenerationId(id: number): number {
  return id >= 0xffffffff ? 1 : id + 1;
}

/** Reports drops of a socket's receive buffer, from the kernel's per-socket counter. */
export class DropWatch {
  private seen: number;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly socket: Pick<NetlinkSocket, 'droppedMessages'>,
    onDrops: (count: number) => void,
  ) {
    this.seen = this.read();
    this.timer = setInterval(() => {
      const n = this.newDrops();
      if (n > 0) onDrops(n);
    }, DROP_CHECK_MS);
    this.timer.unref();
  }

  /** Messages dropped since the last call (0 when the counter cannot be read). */
  newDrops(): number {
    const now = this.read();
    const n = now - this.seen;
    this.seen = now;
    return n > 0 ? n : 0;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private read(): number {
    try {
      return this.socket.droppedMessages();
    } catch {
      // The socket is closing: nothing more will be delivered either.
      return this.seen ?? 0;
    }
  }
}

export class NftMonitor {
  private readonly emitter = new EventEmitter();
  private pending: MonitorEvent[] = [];
  private readonly drops: DropWatch;
  /** The last generation seen (or the one the monitor started from); undefined: take the first as is. */
  private last: number | undefined;

  /**
   * `start`: the seq and port of a GETGEN sent on this socket after subscribing; messages before its
   * reply belong to transactions that began before the monitor existed and are ignored.
   */
  private constructor(
    private readonly socket: EventSocket,
    private start?: { seq: number; portId: number },
  ) {
    this.drops = new DropWatch(socket, (n) => this.lost(`the kernel dropped ${n} events: the receive buffer was full`));
    socket.onUnsolicited((messages) => this.receive(messages));
    socket.onError((err) => this.socketError(err));
  }

  static open(options: { recvBufferSize?: number } = {}): NftMonitor {
    const size = options.recvBufferSize ?? DEFAULT_RECV_BUFFER;
    let socket: NetlinkSocket | undefined;
    try {
      socket = new NetlinkSocket(NETLINK_NETFILTER, {
        recvBufferSize: size,
        recvBufferForce: size,
        noEnobufs: true,
        groups: [NFNLGRP_NFTABLES],
      });
      // Sent now, after subscribing: the kernel answers inside this sendmsg, so the reply is queued
      // behind the events of every transaction it counts and ahead of every later one.
      const seq = socket.nextSeq();
      const w = new AttributeWriter(32);
      encodeGetGen(w, seq);
      const monitor = new NftMonitor(socket, { seq, portId: socket.portId });
      socket.send([w.toBuffer()]).catch((err: Error) => monitor.lost(`GETGEN on the monitor socket failed: ${err.message}`));
      return monitor;
    } catch (err) {
      socket?.close();
      throw new NftError('NFT_SOCKET', `cannot open a monitor socket: ${(err as Error).message}`);
    }
  }

  /** A monitor over a socket already subscribed to NFNLGRP_NFTABLES; it trusts the first NEWGEN. */
  static attach(socket: EventSocket): NftMonitor {
    return new NftMonitor(socket);
  }

  on(event: 'generation', fn: (g: GenerationEvent) => void): this;
  on(event: 'resync', fn: (reason: string) => void): this;
  on(event: 'generation' | 'resync', fn: ((g: GenerationEvent) => void) | ((reason: string) => void)): this {
    this.emitter.on(event, fn);
    return this;
  }

  close(): void {
    this.drops.stop();
    this.socket.close();
  }

  private receive(messages: NetlinkMessage[]): void {
    for (const m of messages) {
      let nm: NftMessage | undefined;
      let event: MonitorEvent | undefined;
      try {
        nm = parseNftMessage(m);
        if (!nm) continue;
        if (nm.msg === 'NEWGEN') {
          this.generation(m, decodeGen(nm));
          continue;
        }
        if (this.start) continue;
        event = toEvent(nm);
      } catch (err) {
        this.lost(`undecodable ${nm?.msg ?? 'message'} event: ${(err as Error).message}`);
        continue;
      }
      if (event) this.pending.push(event);
    }
  }

  private generation(m: NetlinkMessage, gen: Generation): void {
    const start = this.start;
    if (start) {
      // Until our GETGEN is answered, everything belongs to transactions that predate the monitor.
      if (m.seq === start.seq && m.pid === start.portId) {
        this.start = undefined;
        this.last = gen.id;
        this.pending = [];
      }
      return;
    }
    const events = this.pending;
    this.pending = [];
    const last = this.last;
    // At or below the start: a transaction the monitor did not see whole (wraparound aside).
    if (last !== undefined && gen.id <= last && last - gen.id < 0x80000000) return;
    this.last = gen.id;
    const dropped = this.drops.newDrops();
    if (dropped > 0) {
      // Which transactions lost events is unknown: this one's may be incomplete too.
      this.lost(`the kernel dropped ${dropped} events: the receive buffer was full`);
      this.emitter.emit('generation', { ...gen, events: [] });
      return;
    }
    if (last !== undefined && gen.id !== nextGenerationId(last)) {
      this.lost(`generations ${nextGenerationId(last)}..${gen.id - 1} were not seen`);
    }
    this.emitter.emit('generation', { ...gen, events });
  }

  private socketError(err: NetlinkSocketError): void {
    if (err.code === 'ECLOSED') return;
    if (err.code === 'ENOBUFS') this.lost('ENOBUFS: the kernel dropped events because the receive buffer was full');
    else this.lost(`monitor socket error: ${err.message}`);
  }

  /** Events were lost: whatever was buffered is incomplete, and the listener must re-read. */
  private lost(reason: string): void {
    this.pending = [];
    // Should the GETGEN reply itself have been dropped, the next NEWGEN is taken as the start.
    this.start = undefined;
    this.emitter.emit('resync', reason);
  }
}

function toEvent(m: NftMessage): MonitorEvent | undefined {
  if (!m.family) return undefined;
  const op = m.msg.startsWith('DEL') ? 'delete' : 'new';
  switch (m.msg) {
    case 'NEWTABLE':
    case 'DELTABLE': {
      const t = decodeTable(m);
      return { op, kind: 'table', family: t.family, table: t.name, object: t };
    }
    case 'NEWCHAIN':
    case 'DELCHAIN': {
      const c = decodeChain(m);
      return { op, kind: 'chain', family: c.family, table: c.table, object: c };
    }
    case 'NEWRULE':
    case 'DELRULE': {
      const r = decodeRule(m);
      return { op, kind: 'rule', family: r.family, table: r.table, object: r };
    }
    case 'NEWSET':
    case 'DELSET': {
      const s = decodeSet(m);
      return { op, kind: 'set', family: s.family, table: s.table, object: s };
    }
    case 'NEWSETELEM':
    case 'DELSETELEM': {
      const e = decodeSetElements(m);
      return { op, kind: 'element', family: e.family, table: e.table, object: { set: e.set, elements: e.elements } };
    }
    default:
      return undefined;
  }
}
