// Expression builders that emit exactly the sequences nft compiles for the same text (nft
// src/netlink_linearize.c; checked against `nft --debug=netlink` in test/compiler/canonical.test.ts),
// so `nft list` decompiles our rules and our own decoder sees one form per match.
import { endianness } from 'node:os';
import { Expr, Verdict } from '../nftables/model';

/** NFPROTO_IPV4 / NFPROTO_IPV6 (include/uapi/linux/netfilter.h). */
const NFPROTO = { 4: 2, 6: 10 } as const;

export type IpFamily = 4 | 6;

export const ADDR_LEN = { 4: 4, 6: 16 } as const;
/** Offsets of saddr/daddr in the IPv4 and IPv6 headers. */
const ADDR_OFFSET = { 4: { saddr: 12, daddr: 16 }, 6: { saddr: 8, daddr: 24 } } as const;
/** th sport / th dport offsets in the transport header. */
const PORT_OFFSET = { sport: 0, dport: 2 } as const;

export type AddrField = 'saddr' | 'daddr';
export type PortField = 'sport' | 'dport';

/** The conntrack state bits (NF_CT_STATE_BIT): invalid 1, established 2, related 4, new 8. */
export const CT_STATE = { invalid: 0x01, established: 0x02, related: 0x04 } as const;

function u8(v: number): Buffer {
  return Buffer.from([v]);
}

function be16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}

/** ct state and meta mark data are host-order u32 (nft ct.t.payload on a little-endian host). */
function hostU32(v: number): Buffer {
  const b = Buffer.alloc(4);
  if (endianness() === 'LE') b.writeUInt32LE(v);
  else b.writeUInt32BE(v);
  return b;
}

/** `meta nfproto ipv4|ipv6`: the dependency nft puts before any ip/ip6 header match in an inet table. */
export function nfproto(family: IpFamily): Expr[] {
  return [
    { type: 'meta', key: 'nfproto', dreg: 1 },
    { type: 'cmp', sreg: 1, op: 'eq', data: u8(NFPROTO[family]) },
  ];
}

/** `meta l4proto X` or `meta l4proto != X`. */
export function l4proto(proto: number, op: 'eq' | 'neq' = 'eq'): Expr[] {
  return [
    { type: 'meta', key: 'l4proto', dreg: 1 },
    { type: 'cmp', sreg: 1, op, data: u8(proto) },
  ];
}

/** `ct state a,b` (any of the bits): ct load, bitwise mask, cmp neq 0 (nft any/ct.t.payload). */
export function ctStateAny(mask: number): Expr[] {
  return [
    { type: 'ct', key: 'state', dreg: 1 },
    { type: 'bitwise', sreg: 1, dreg: 1, len: 4, mask: hostU32(mask), xor: Buffer.alloc(4) },
    { type: 'cmp', sreg: 1, op: 'neq', data: Buffer.alloc(4) },
  ];
}

/** `iifname "eth0"`: the name NUL-padded to IFNAMSIZ (16). */
export function iifname(name: string): Expr[] {
  const data = Buffer.alloc(16);
  data.write(name, 'utf8');
  return [
    { type: 'meta', key: 'iifname', dreg: 1 },
    { type: 'cmp', sreg: 1, op: 'eq', data },
  ];
}

/**
 * `ip saddr 10.0.0.0/8` and friends. A byte-aligned prefix shortens the load to the prefix's bytes;
 * any other prefix loads the whole address and masks it (nft netlink_gen_relational, EXPR_PREFIX).
 * The caller handles /0, which matches every address of the family.
 */
export function addrPrefix(family: IpFamily, field: AddrField, addr: Buffer, prefix: number, op: 'eq' | 'neq'): Expr[] {
  const full = ADDR_LEN[family];
  const offset = ADDR_OFFSET[family][field];
  if (prefix % 8 === 0) {
    const len = prefix / 8;
    return [
      { type: 'payload', base: 'network', offset, len, dreg: 1 },
      { type: 'cmp', sreg: 1, op, data: Buffer.from(addr.subarray(0, len)) },
    ];
  }
  const mask = Buffer.alloc(full);
  for (let bit = 0; bit < prefix; bit++) mask[bit >> 3] |= 0x80 >> (bit & 7);
  return [
    { type: 'payload', base: 'network', offset, len: full, dreg: 1 },
    { type: 'bitwise', sreg: 1, dreg: 1, len: full, mask, xor: Buffer.alloc(full) },
    { type: 'cmp', sreg: 1, op, data: Buffer.from(addr) },
  ];
}

/** `ip saddr @set` / `ip saddr != @set`. */
export function addrLookup(family: IpFamily, field: AddrField, set: string, invert: boolean): Expr[] {
  return [
    { type: 'payload', base: 'network', offset: ADDR_OFFSET[family][field], len: ADDR_LEN[family], dreg: 1 },
    lookup(set, 1, invert),
  ];
}

/**
 * `ip daddr . meta l4proto . th dport @set`: a concatenation in consecutive 4-byte register slots
 * (nft netlink_put_register: a 16-byte-aligned slot is written NFT_REG_n, others NFT_REG32_xx).
 */
export function addrProtoPortLookup(family: IpFamily, addr: AddrField, port: PortField, set: string, invert: boolean): Expr[] {
  const slots = ADDR_LEN[family] / 4;
  return [
    { type: 'payload', base: 'network', offset: ADDR_OFFSET[family][addr], len: ADDR_LEN[family], dreg: 1 },
    { type: 'meta', key: 'l4proto', dreg: slotRegister(slots) },
    { type: 'payload', base: 'transport', offset: PORT_OFFSET[port], len: 2, dreg: slotRegister(slots + 1) },
    lookup(set, 1, invert),
  ];
}

function slotRegister(slot: number): number {
  return slot % 4 === 0 ? 1 + slot / 4 : 8 + slot;
}

function lookup(set: string, sreg: number, invert: boolean): Expr {
  return invert ? { type: 'lookup', set, sreg, invert: true } : { type: 'lookup', set, sreg };
}

/**
 * A port or port range, `th dport 22`, `th dport != 22`, `th dport 1000-2000`. nft 1.0.6 compiles a
 * positive range as cmp gte + cmp lte, and a negated one as `range neq`.
 */
export function portMatch(field: PortField, lo: number, hi: number, op: 'eq' | 'neq'): Expr[] {
  const load: Expr = { type: 'payload', base: 'transport', offset: PORT_OFFSET[field], len: 2, dreg: 1 };
  if (lo === hi) return [load, { type: 'cmp', sreg: 1, op, data: be16(lo) }];
  if (op === 'eq') {
    return [load, { type: 'cmp', sreg: 1, op: 'gte', data: be16(lo) }, { type: 'cmp', sreg: 1, op: 'lte', data: be16(hi) }];
  }
  return [load, { type: 'range', sreg: 1, op: 'neq', from: be16(lo), to: be16(hi) }];
}

/** `th dport @ports` / `th dport != @ports`. */
export function portLookup(field: PortField, set: string, invert: boolean): Expr[] {
  return [{ type: 'payload', base: 'transport', offset: PORT_OFFSET[field], len: 2, dreg: 1 }, lookup(set, 1, invert)];
}

/** A one-byte transport-header field range (`icmpv6 type 133-137`: cmp gte + cmp lte). */
export function transportByteRange(offset: number, lo: number, hi: number): Expr[] {
  return [
    { type: 'payload', base: 'transport', offset, len: 1, dreg: 1 },
    { type: 'cmp', sreg: 1, op: 'gte', data: u8(lo) },
    { type: 'cmp', sreg: 1, op: 'lte', data: u8(hi) },
  ];
}

/** `icmp type X` or `icmp code X` alone: a one-byte load at transport offset 0 or 1. */
export function icmpField(field: 'type' | 'code', value: number, op: 'eq' | 'neq'): Expr[] {
  return [
    { type: 'payload', base: 'transport', offset: field === 'type' ? 0 : 1, len: 1, dreg: 1 },
    { type: 'cmp', sreg: 1, op, data: u8(value) },
  ];
}

/**
 * `icmp type X [icmp code Y]`. nft merges the adjacent type and code loads into one 2-byte load
 * and compare (payload merge, nft src/optimize.c / netlink_linearize), so we emit that form.
 */
export function icmpMatch(type: number, code: number | undefined): Expr[] {
  if (code === undefined) return icmpField('type', type, 'eq');
  return [{ type: 'payload', base: 'transport', offset: 0, len: 2, dreg: 1 }, { type: 'cmp', sreg: 1, op: 'eq', data: Buffer.from([type, code]) }];
}

export function counter(): Expr {
  return { type: 'counter', packets: 0n, bytes: 0n };
}

export function log(prefix: string): Expr {
  return { type: 'log', prefix };
}

export function verdict(kind: Verdict['kind'], chain?: string): Expr {
  return { type: 'immediate', dreg: 0, verdict: chain === undefined ? { kind } : { kind, chain } };
}
