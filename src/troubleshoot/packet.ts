// A packet as `flockguard explain` describes it, and the header bytes the nf_tables payload
// expression would load from it. Only the fields our compiler matches are modelled: the network
// header (IPv4 RFC 791 / IPv6 RFC 8200 fixed header) and the first bytes of TCP/UDP/ICMP.
import { parseIpAddress } from '../policy/nets';

export type CtState = 'new' | 'established' | 'related' | 'invalid' | 'untracked';

export interface PacketSpec {
  iifname: string;
  src: string;
  dst: string;
  /** Protocol name (tcp, udp, icmp, icmpv6, sctp) or number. */
  proto: string | number;
  sport?: number;
  dport?: number;
  icmpType?: number;
  icmpCode?: number;
  /** Default: what conntrack makes of a first packet of this kind (conntrackStateOf). */
  ctState?: CtState;
  mark?: number;
}

/** The packet in the form the evaluator reads: header bytes and metadata. */
export interface Packet {
  iifname: string;
  nfproto: 4 | 6;
  l4proto: number;
  network: Buffer;
  transport: Buffer;
  ctState: CtState;
  mark: number;
}

const PROTOCOLS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, sctp: 132, udplite: 136 };

export class PacketSpecError extends Error {
  readonly code = 'EXPLAIN_BAD_PACKET';
}

export function protocolNumber(proto: string | number): number {
  if (typeof proto === 'number') return proto;
  const n = PROTOCOLS[proto.toLowerCase()] ?? (/^\d+$/.test(proto) ? Number(proto) : NaN);
  if (!(n >= 0 && n <= 255)) throw new PacketSpecError(`unknown protocol "${proto}": use tcp, udp, icmp, icmpv6, sctp or a number`);
  return n;
}

export function buildPacket(spec: PacketSpec): Packet {
  const src = address('--src', spec.src);
  const dst = address('--dst', spec.dst);
  if (src.family !== dst.family) {
    throw new PacketSpecError(`--src ${spec.src} and --dst ${spec.dst} must be addresses of the same family`);
  }
  const family = src.family;
  const l4proto = protocolNumber(spec.proto);
  const network = family === 4 ? ipv4Header(src.addr, dst.addr, l4proto) : ipv6Header(src.addr, dst.addr, l4proto);
  return {
    iifname: spec.iifname,
    nfproto: family,
    l4proto,
    network,
    transport: transportHeader(l4proto, spec),
    ctState: spec.ctState ?? conntrackStateOf(family, l4proto, spec.icmpType ?? defaultIcmpType(l4proto)),
    mark: spec.mark ?? 0,
  };
}

/**
 * The ct state conntrack gives the first packet of a flow, as explain assumes one: `new`, except for
 * ICMP messages conntrack cannot start a flow with. ICMPv6 neighbour discovery and MLD are left
 * untracked (nf_conntrack_proto_icmpv6.c noct_valid_new); other ICMP types outside valid_new, and
 * error messages without a tracked inner packet, get no conntrack entry, which `ct state` reads as
 * invalid (nf_conntrack_proto_icmp.c, icmpv6.c; nft_ct.c nft_ct_get_eval).
 */
export function conntrackStateOf(family: 4 | 6, l4proto: number, icmpType: number | undefined): CtState {
  if (l4proto === 1 && family === 4) return ICMP_NEW.has(icmpType ?? -1) ? 'new' : 'invalid';
  if (l4proto === 58 && family === 6) {
    if (ICMPV6_UNTRACKED.has(icmpType ?? -1)) return 'untracked';
    return ICMPV6_NEW.has(icmpType ?? -1) ? 'new' : 'invalid';
  }
  return 'new';
}

/** Echo, timestamp, information and address-mask requests. */
const ICMP_NEW = new Set([8, 13, 15, 17]);
/** Echo request and node information query. */
const ICMPV6_NEW = new Set([128, 139]);
/** MLD query/report/done, router/neighbour solicitation and advertisement, MLDv2 report. */
const ICMPV6_UNTRACKED = new Set([130, 131, 132, 133, 134, 135, 136, 143]);

function defaultIcmpType(l4proto: number): number | undefined {
  return l4proto === 1 ? 8 : l4proto === 58 ? 128 : undefined;
}

function address(flag: string, text: string): { family: 4 | 6; addr: Buffer } {
  try {
    return parseIpAddress(text);
  } catch (err) {
    throw new PacketSpecError(`${flag} ${text}: ${(err as Error).message}`);
  }
}

function ipv4Header(src: Buffer, dst: Buffer, proto: number): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h[8] = 64;
  h[9] = proto;
  src.copy(h, 12);
  dst.copy(h, 16);
  return h;
}

function ipv6Header(src: Buffer, dst: Buffer, proto: number): Buffer {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h[6] = proto;
  h[7] = 64;
  src.copy(h, 8);
  dst.copy(h, 24);
  return h;
}

function transportHeader(proto: number, spec: PacketSpec): Buffer {
  const t = Buffer.alloc(20);
  if (proto === 1 || proto === 58) {
    t[0] = spec.icmpType ?? defaultIcmpType(proto) ?? 0;
    t[1] = spec.icmpCode ?? 0;
  } else {
    t.writeUInt16BE(spec.sport ?? 40000, 0);
    t.writeUInt16BE(spec.dport ?? 0, 2);
    // A TCP SYN (data offset 5 words): the first packet of a connection, which is what explain asks about.
    if (proto === 6) {
      t[12] = 0x50;
      t[13] = 0x02;
    }
  }
  return t;
}
