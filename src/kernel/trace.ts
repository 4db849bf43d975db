// Packet traces (NFNLGRP_NFTRACE): for a packet marked with `meta nftrace set 1`, the kernel sends one
// NFT_MSG_TRACE per matching rule, chain return and base-chain policy decision, all with the same id;
// interface and header data come only in the first one (nf_tables_trace.c nft_trace_notify; nftnl
// trace.c; nft trace.c). The kernel emits them only while someone listens on the group.
import { EventEmitter } from 'node:events';
import { AttributeReader, NetlinkMessage, NetlinkSocket } from '../netlink';
import { NFNLGRP_NFTRACE, NFTA_TRACE, NFT_TRACETYPE, NftMessage, parseNftMessage } from '../nftables';
import { Family, Verdict } from '../nftables/model';
import { verdictKind } from '../nftables/verdict';
import { NETLINK_NETFILTER } from './client';
import { NftError } from './errors';
import { DropWatch } from './monitor';

export interface TraceEvent {
  id: number;
  family: Family;
  table: string;
  chain: string;
  ruleHandle?: bigint;
  type: 'rule' | 'return' | 'policy';
  verdict?: Verdict;
  iif?: number;
  oif?: number;
  mark?: number;
  nfproto?: number;
  networkHeader?: Buffer;
  transportHeader?: Buffer;
}

const NFTA_VERDICT_CODE = 1;
const NFTA_VERDICT_CHAIN = 2;
/** A base chain's policy: NF_DROP 0, NF_ACCEPT 1. */
const NF_ACCEPT = 1;
/** As nft's monitor socket (NFTABLES_NLEVENT_BUFSIZ). */
const TRACE_RECV_BUFFER = 16 << 20;

export class NftTracer {
  private readonly emitter = new EventEmitter();
  private readonly drops: DropWatch;

  private constructor(private readonly socket: NetlinkSocket) {
    socket.onUnsolicited((messages) => this.receive(messages));
    socket.onError((err) => {
      if (err.code !== 'ECLOSED') this.emitter.emit('lost', `trace socket error: ${err.message}`);
    });
    // A burst of traced packets can outrun the reader: with NO_ENOBUFS the kernel drops traces
    // silently, and only its drop counter tells (see monitor.ts), read once a second.
    this.drops = new DropWatch(socket, (n) => this.emitter.emit('lost', `the kernel dropped ${n} trace events: the receive buffer was full`));
  }

  static open(): NftTracer {
    try {
      return new NftTracer(
        new NetlinkSocket(NETLINK_NETFILTER, {
          recvBufferSize: TRACE_RECV_BUFFER,
          recvBufferForce: TRACE_RECV_BUFFER,
          noEnobufs: true,
          groups: [NFNLGRP_NFTRACE],
        }),
      );
    } catch (err) {
      throw new NftError('NFT_SOCKET', `cannot open a trace socket: ${(err as Error).message}`);
    }
  }

  on(event: 'trace', fn: (t: TraceEvent) => void): this;
  /** Traces were dropped (ENOBUFS) or undecodable. */
  on(event: 'lost', fn: (reason: string) => void): this;
  on(event: 'trace' | 'lost', fn: ((t: TraceEvent) => void) | ((reason: string) => void)): this {
    this.emitter.on(event, fn);
    return this;
  }

  close(): void {
    this.drops.stop();
    this.socket.close();
  }

  private receive(messages: NetlinkMessage[]): void {
    for (const m of messages) {
      const nm = parseNftMessage(m);
      if (nm?.msg !== 'TRACE') continue;
      let t: TraceEvent | undefined;
      try {
        t = decodeTrace(nm);
      } catch (err) {
        this.emitter.emit('lost', `undecodable trace: ${(err as Error).message}`);
      }
      if (t) this.emitter.emit('trace', t);
    }
  }
}

const TYPES: Record<number, TraceEvent['type']> = {
  [NFT_TRACETYPE.POLICY]: 'policy',
  [NFT_TRACETYPE.RETURN]: 'return',
  [NFT_TRACETYPE.RULE]: 'rule',
};

/** One NFT_MSG_TRACE, or undefined for a family or trace type the model does not know. */
export function decodeTrace(m: NftMessage): TraceEvent | undefined {
  const a = m.attrs;
  const type = TYPES[a.u32be(NFTA_TRACE.TYPE) ?? 0];
  if (!m.family || !type) return undefined;
  const t: TraceEvent = {
    id: a.u32be(NFTA_TRACE.ID) ?? 0,
    family: m.family,
    table: a.string(NFTA_TRACE.TABLE) ?? '',
    chain: a.string(NFTA_TRACE.CHAIN) ?? '',
    type,
  };
  const handle = a.u64be(NFTA_TRACE.RULE_HANDLE);
  if (handle !== undefined) t.ruleHandle = handle;
  const verdict = a.nest(NFTA_TRACE.VERDICT);
  if (verdict) t.verdict = readTraceVerdict(verdict);
  const policy = a.u32be(NFTA_TRACE.POLICY);
  if (type === 'policy' && policy !== undefined) t.verdict = { kind: policy === NF_ACCEPT ? 'accept' : 'drop' };
  const optional: Array<[keyof TraceEvent & ('iif' | 'oif' | 'mark' | 'nfproto'), number]> = [
    ['iif', NFTA_TRACE.IIF],
    ['oif', NFTA_TRACE.OIF],
    ['mark', NFTA_TRACE.MARK],
    ['nfproto', NFTA_TRACE.NFPROTO],
  ];
  for (const [field, attr] of optional) {
    const v = a.u32be(attr);
    if (v !== undefined) t[field] = v;
  }
  const nh = a.bytes(NFTA_TRACE.NETWORK_HEADER);
  if (nh) t.networkHeader = Buffer.from(nh);
  const th = a.bytes(NFTA_TRACE.TRANSPORT_HEADER);
  if (th) t.transportHeader = Buffer.from(th);
  return t;
}

/** NFTA_TRACE_VERDICT holds CODE and CHAIN directly (nft_verdict_dump), with no NFTA_DATA_VERDICT level. */
function readTraceVerdict(r: AttributeReader): Verdict | undefined {
  const code = r.i32be(NFTA_VERDICT_CODE);
  if (code === undefined) return undefined;
  const chain = r.string(NFTA_VERDICT_CHAIN);
  const kind = verdictKind(code);
  return chain !== undefined ? { kind, chain } : { kind };
}
