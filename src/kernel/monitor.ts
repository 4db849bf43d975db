// Ruleset events (NFNLGRP_NFTABLES): the kernel multicasts one message per object change at commit
// time, then one NEWGEN closing the transaction with the committing process's pid and comm
// (nf_tables_api.c nf_tables_commit, nf_tables_gen_notify; nft monitor.c). Events are buffered until
// that NEWGEN and delivered as one 'generation', as gnft's generational monitor does. A monitor has a
// socket of its own: the client's socket must never fill up with events. When the receive buffer
// overflows the kernel drops events and the socket reports ENOBUFS: the listener must then re-read
// the ruleset ('resync'), as nft monitor's "We lost some netlink events!" says.
//
// Caveat of the npm netlink binding 0.3.0: an overflow makes poll() report POLLERR, and the binding's
// poll handler then throws from native code (it builds its error with a NULL syscall name), which
// aborts the process before 'error' reaches JS. Until the binding is fixed the receive buffer must be
// large enough for the biggest burst (the default asks for nft's 16 MiB; the kernel caps it at
// 2 * net.core.rmem_max).
import { EventEmitter } from 'node:events';
import { NetlinkMessage, NetlinkSocket, NetlinkSocketError } from '../netlink';
import {
  NFNLGRP_NFTABLES,
  NftMessage,
  decodeChain,
  decodeGen,
  decodeRule,
  decodeSet,
  decodeSetElements,
  decodeTable,
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
export type EventSocket = Pick<NetlinkSocket, 'onUnsolicited' | 'onError' | 'close'>;

/** nft uses 16 MiB (NFTABLES_NLEVENT_BUFSIZ); the kernel caps SO_RCVBUF at 2 * net.core.rmem_max. */
const DEFAULT_RECV_BUFFER = 16 << 20;

export class NftMonitor {
  private readonly emitter = new EventEmitter();
  private pending: MonitorEvent[] = [];

  private constructor(private readonly socket: EventSocket) {
    socket.onUnsolicited((messages) => this.receive(messages));
    socket.onError((err) => this.socketError(err));
  }

  static open(options: { recvBufferSize?: number } = {}): NftMonitor {
    try {
      return new NftMonitor(
        new NetlinkSocket(NETLINK_NETFILTER, {
          recvBufferSize: options.recvBufferSize ?? DEFAULT_RECV_BUFFER,
          groups: [NFNLGRP_NFTABLES],
        }),
      );
    } catch (err) {
      throw new NftError('NFT_SOCKET', `cannot open a monitor socket: ${(err as Error).message}`);
    }
  }

  /** A monitor over a socket already subscribed to NFNLGRP_NFTABLES. */
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
          const gen = decodeGen(nm);
          const events = this.pending;
          this.pending = [];
          this.emitter.emit('generation', { ...gen, events });
          continue;
        }
        event = toEvent(nm);
      } catch (err) {
        this.lost(`undecodable ${nm?.msg ?? 'message'} event: ${(err as Error).message}`);
        continue;
      }
      if (event) this.pending.push(event);
    }
  }

  private socketError(err: NetlinkSocketError): void {
    if (err.code === 'ENOBUFS') this.lost('ENOBUFS: the kernel dropped events because the receive buffer was full');
    else this.lost(`monitor socket error: ${err.message}`);
  }

  /** Events were lost: whatever was buffered is incomplete, and the listener must re-read. */
  private lost(reason: string): void {
    this.pending = [];
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
