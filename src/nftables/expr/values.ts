// Text of register values as nft prints them (nft src/datatype.c, src/proto.c, src/ct.c, src/meta.c):
// addresses, ports, protocol names, interface names, marks and conntrack bits. Used by format.ts.
// Host-order values (marks, ifindex, ct state/status) are read in this host's byte order, as the
// kernel stores them.
import { endianness } from 'node:os';

export type ValueType =
  | 'ipv4' | 'ipv6' | 'port' | 'proto' | 'ifname' | 'nfproto' | 'ethertype' | 'mark' | 'ifindex' | 'u8'
  | 'ctstate' | 'ctstatus' | 'ctdir' | 'icmptype' | 'icmpcode' | 'icmp6type' | 'icmp6code';

const LITTLE = endianness() === 'LE';
const hostU32 = (b: Buffer): number => (LITTLE ? b.readUInt32LE(0) : b.readUInt32BE(0));

/** /etc/protocols names nft prints (the common ones). */
const PROTOCOLS: Record<number, string> = {
  1: 'icmp', 2: 'igmp', 6: 'tcp', 17: 'udp', 33: 'dccp', 41: 'ipv6', 47: 'gre', 50: 'esp', 51: 'ah', 58: 'ipv6-icmp',
  132: 'sctp', 136: 'udplite',
};
const NFPROTOS: Record<number, string> = { 2: 'ipv4', 10: 'ipv6' };
const ETHERTYPES: Record<number, string> = { 0x0800: 'ip', 0x86dd: 'ip6', 0x0806: 'arp', 0x8100: 'vlan' };
/** nft src/proto.c icmp_type_tbl, icmp6_type_tbl and src/datatype.c icmp(v6)_code_tbl. */
const NAMED_BYTES: Partial<Record<ValueType, Record<number, string>>> = {
  icmptype: {
    0: 'echo-reply', 3: 'destination-unreachable', 4: 'source-quench', 5: 'redirect', 8: 'echo-request',
    9: 'router-advertisement', 10: 'router-solicitation', 11: 'time-exceeded', 12: 'parameter-problem',
    13: 'timestamp-request', 14: 'timestamp-reply', 15: 'info-request', 16: 'info-reply', 17: 'address-mask-request',
    18: 'address-mask-reply',
  },
  icmpcode: {
    0: 'net-unreachable', 1: 'host-unreachable', 2: 'prot-unreachable', 3: 'port-unreachable', 4: 'frag-needed',
    9: 'net-prohibited', 10: 'host-prohibited', 13: 'admin-prohibited',
  },
  icmp6type: {
    1: 'destination-unreachable', 2: 'packet-too-big', 3: 'time-exceeded', 4: 'parameter-problem', 128: 'echo-request',
    129: 'echo-reply', 130: 'mld-listener-query', 131: 'mld-listener-report', 132: 'mld-listener-done',
    133: 'nd-router-solicit', 134: 'nd-router-advert', 135: 'nd-neighbor-solicit', 136: 'nd-neighbor-advert',
    137: 'nd-redirect', 138: 'router-renumbering', 141: 'ind-neighbor-solicit', 142: 'ind-neighbor-advert',
    143: 'mld2-listener-report',
  },
  icmp6code: {
    0: 'no-route', 1: 'admin-prohibited', 3: 'addr-unreachable', 4: 'port-unreachable', 5: 'policy-fail', 6: 'reject-route',
  },
};

/** NF_CT_STATE_BIT(ctinfo) names (nft src/ct.c ct_state_tbl). */
export const CT_STATE_BITS: Array<[number, string]> = [[0x1, 'invalid'], [0x2, 'established'], [0x4, 'related'], [0x8, 'new'], [0x40, 'untracked']];
/** IPS_* bits nft names (nft src/ct.c ct_status_tbl). */
export const CT_STATUS_BITS: Array<[number, string]> = [
  [0x1, 'expected'], [0x2, 'seen-reply'], [0x4, 'assured'], [0x8, 'confirmed'], [0x10, 'snat'], [0x20, 'dnat'], [0x200, 'dying'],
];

/** Bit names joined with ',' (nft's flag list); undefined when a bit has no name. */
export function bitNames(value: number, table: Array<[number, string]>): string | undefined {
  const names = table.filter(([bit]) => value & bit).map(([, name]) => name);
  const known = table.reduce((acc, [bit]) => acc | bit, 0);
  return value & ~known || names.length === 0 ? undefined : names.join(',');
}

function ipv4(b: Buffer): string {
  return [...b].join('.');
}

/** RFC 5952 text: lower case, the longest run of two or more zero groups becomes "::". */
export function ipv6(b: Buffer): string {
  const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2));
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const text = groups.map((g) => g.toString(16));
  if (best.at < 0) return text.join(':');
  return `${text.slice(0, best.at).join(':')}::${text.slice(best.at + best.len).join(':')}`;
}

/** An interface name; a short compare without NUL is nft's wildcard `"eth*"` (nft src/evaluate.c). */
function ifname(b: Buffer, fieldLen: number): string {
  const nul = b.indexOf(0);
  if (nul < 0 && b.length < fieldLen) return `"${b.toString('latin1')}*"`;
  const name = b.toString('latin1', 0, nul < 0 ? b.length : nul);
  return `"${name.endsWith('*') ? `${name.slice(0, -1)}\\*` : name}"`;
}

/** The text of `data` as a value of `type`; undefined when the bytes do not fit the type. */
export function formatValue(type: ValueType, data: Buffer, fieldLen: number, prefixBits?: number): string | undefined {
  const sized = (n: number) => data.length === n;
  switch (type) {
    case 'ipv4':
    case 'ipv6': {
      if (data.length > fieldLen || (data.length < fieldLen && prefixBits === undefined)) return undefined;
      const full = Buffer.concat([data, Buffer.alloc(fieldLen - data.length)]);
      const text = type === 'ipv4' ? ipv4(full) : ipv6(full);
      return prefixBits !== undefined ? `${text}/${prefixBits}` : text;
    }
    case 'port':
      return sized(2) ? String(data.readUInt16BE(0)) : undefined;
    case 'proto':
      return sized(1) ? (PROTOCOLS[data[0]!] ?? String(data[0])) : undefined;
    case 'nfproto':
      return sized(1) ? (NFPROTOS[data[0]!] ?? String(data[0])) : undefined;
    case 'ethertype':
      return sized(2) ? (ETHERTYPES[data.readUInt16BE(0)] ?? `0x${data.toString('hex')}`) : undefined;
    case 'u8':
      return sized(1) ? String(data[0]) : undefined;
    case 'ifname':
      return data.length <= fieldLen ? ifname(data, fieldLen) : undefined;
    case 'mark':
      return sized(4) ? `0x${hostU32(data).toString(16).padStart(8, '0')}` : undefined;
    case 'ifindex':
      return sized(4) ? String(hostU32(data)) : undefined;
    case 'ctstate':
      return sized(4) ? bitNames(hostU32(data), CT_STATE_BITS) : undefined;
    case 'ctstatus':
      return sized(4) ? bitNames(hostU32(data), CT_STATUS_BITS) : undefined;
    case 'ctdir':
      return sized(1) && data[0]! <= 1 ? ['original', 'reply'][data[0]!] : undefined;
    case 'icmptype':
    case 'icmpcode':
    case 'icmp6type':
    case 'icmp6code':
      return sized(1) ? (NAMED_BYTES[type]![data[0]!] ?? String(data[0])) : undefined;
  }
}

/** Reads a host-order u32 mask (ct state/status flag tests). */
export function hostU32Value(b: Buffer): number | undefined {
  return b.length === 4 ? hostU32(b) : undefined;
}
