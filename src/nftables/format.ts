// nft-like text of a rule's expressions, for CLI output, explain and trace: what `nft list` would
// print for the shapes nft itself compiles (nft src/netlink_delinearize.c does the full job; this is
// the part flockguard's rules use). It follows registers from loads to the compare, lookup or set
// that consumes them, and drops the protocol dependencies nft adds (`meta nfproto ipv4` before
// `ip saddr`, `meta l4proto tcp` before `tcp dport`).
//
// Covered: iifname/oifname (incl. "eth*" wildcards), iif/oif (as ifindex numbers), meta nfproto,
// l4proto, protocol, mark (also masked), nftrace; ip/ip6 saddr, daddr, protocol/nexthdr,
// ttl/hoplimit, with prefixes from shortened loads or masks; tcp/udp/sctp/dccp/udplite/th sport and
// dport; icmp/icmpv6 type and code; ct state and status (flag tests and exact), direction, mark,
// l3proto, protocol, proto-src/dst; cmp operators, ranges (range expression or nft's >=/<= pair);
// lookups `@set`, `!= @set`, `vmap @m`, `map @m` into a meta/ct set, with concatenated keys
// (`ip daddr . meta l4proto . th dport @s`); `meta|ct ... set <value>`; counter, log, limit, verdicts.
// Not covered: anonymous sets print as their kernel name (`@__set0`), not their contents; nft
// resolves ifindexes to names, we print numbers. Everything else (other payload fields, ether,
// byteorder, nat, fib, ...) falls back to the low-level form of describeExpr
// (`[ payload load 6b @ link header + 6 => reg 1 ]`), and so does any register an unknown
// expression may have written.
import { describeExpr } from './expr/describe';
import { Registers, UNKNOWN_LEN } from './expr/registers';
import { CT_STATE_BITS, CT_STATUS_BITS, ValueType, bitNames, formatValue, hostU32Value } from './expr/values';
import { CmpOp, CtKey, Expr, Family, MetaKey } from './model';

export interface FormatContext {
  /** The table's family: ip and ip6 tables need no nfproto dependency to name network fields. */
  family?: Family;
}

interface Field {
  name: string;
  type: ValueType | 'icmppair' | 'icmp6pair';
  len: number;
}

interface PayloadField extends Field {
  offset: number;
}

type Source =
  /** A field loaded whole, or its first `loadLen` bytes (a prefix). */
  | { kind: 'field'; field: Field; loadLen: number }
  | { kind: 'masked'; field: Field; mask: Buffer; xor: Buffer }
  | { kind: 'data'; data: Buffer }
  | { kind: 'text'; text: string };

/** What a register holds, which expressions produced it, and the dependencies its field relies on. */
interface Value {
  source: Source;
  at: number[];
  /** Indexes of printed protocol matches (`meta nfproto ipv4`, ...) that nft drops once the value is used. */
  deps: number[];
}

const IPV4: PayloadField[] = [
  { name: 'ip saddr', type: 'ipv4', offset: 12, len: 4 },
  { name: 'ip daddr', type: 'ipv4', offset: 16, len: 4 },
  { name: 'ip protocol', type: 'proto', offset: 9, len: 1 },
  { name: 'ip ttl', type: 'u8', offset: 8, len: 1 },
];
const IPV6: PayloadField[] = [
  { name: 'ip6 saddr', type: 'ipv6', offset: 8, len: 16 },
  { name: 'ip6 daddr', type: 'ipv6', offset: 24, len: 16 },
  { name: 'ip6 nexthdr', type: 'proto', offset: 6, len: 1 },
  { name: 'ip6 hoplimit', type: 'u8', offset: 7, len: 1 },
];
/** Transport protocols nft names ports after; anything else is `th`. */
const PORT_PROTOCOLS: Record<number, string> = { 6: 'tcp', 17: 'udp', 33: 'dccp', 132: 'sctp', 136: 'udplite' };
const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;
/** icmp type (1 byte at 0), code (1 byte at 1), or both at once (nft merges the two loads). */
const ICMP: Record<number, PayloadField[]> = {
  [IPPROTO_ICMP]: [
    { name: 'icmp type', type: 'icmptype', offset: 0, len: 1 },
    { name: 'icmp code', type: 'icmpcode', offset: 1, len: 1 },
    { name: 'icmp', type: 'icmppair', offset: 0, len: 2 },
  ],
  [IPPROTO_ICMPV6]: [
    { name: 'icmpv6 type', type: 'icmp6type', offset: 0, len: 1 },
    { name: 'icmpv6 code', type: 'icmp6code', offset: 1, len: 1 },
    { name: 'icmpv6', type: 'icmp6pair', offset: 0, len: 2 },
  ],
};

const META: Partial<Record<MetaKey, Field>> = {
  iifname: { name: 'iifname', type: 'ifname', len: 16 },
  oifname: { name: 'oifname', type: 'ifname', len: 16 },
  iif: { name: 'iif', type: 'ifindex', len: 4 },
  oif: { name: 'oif', type: 'ifindex', len: 4 },
  nfproto: { name: 'meta nfproto', type: 'nfproto', len: 1 },
  l4proto: { name: 'meta l4proto', type: 'proto', len: 1 },
  protocol: { name: 'meta protocol', type: 'ethertype', len: 2 },
  mark: { name: 'meta mark', type: 'mark', len: 4 },
  nftrace: { name: 'meta nftrace', type: 'u8', len: 1 },
};

const CT: Record<CtKey, { word: string; type: ValueType; len: number }> = {
  state: { word: 'state', type: 'ctstate', len: 4 },
  status: { word: 'status', type: 'ctstatus', len: 4 },
  direction: { word: 'direction', type: 'ctdir', len: 1 },
  mark: { word: 'mark', type: 'mark', len: 4 },
  l3protocol: { word: 'l3proto', type: 'nfproto', len: 1 },
  protocol: { word: 'protocol', type: 'proto', len: 1 },
  proto_src: { word: 'proto-src', type: 'port', len: 2 },
  proto_dst: { word: 'proto-dst', type: 'port', len: 2 },
};

const OP_TEXT: Record<CmpOp, string> = { eq: '', neq: '!= ', lt: '< ', lte: '<= ', gt: '> ', gte: '>= ' };
const LOG_LEVELS = ['emerg', 'alert', 'crit', 'err', 'warn', 'notice', 'info', 'debug', 'audit'];
const NFT_LOGLEVEL_WARNING = 4;
const TIME_UNITS: Record<string, string> = { '1': 'second', '60': 'minute', '3600': 'hour', '86400': 'day', '604800': 'week' };

/** The protocol context a rule establishes as it goes (nft's dependency tracking, much reduced). */
interface State {
  l3?: 'ip' | 'ip6';
  /** Index of the printed `meta nfproto` / `meta protocol` match that names l3, while unused. */
  l3Dep?: number;
  l4?: number;
  l4Dep?: number;
}

const ctField = (key: CtKey, direction?: string): Field => {
  const c = CT[key];
  return { name: `ct ${direction ? `${direction} ` : ''}${c.word}`, type: c.type, len: c.len };
};

const isAddress = (f: Field): boolean => f.type === 'ipv4' || f.type === 'ipv6';
const defined = (xs: Array<number | undefined>): number[] => xs.filter((x): x is number => x !== undefined);

/** The field a payload load reads, and the dependencies that name its protocol. */
function payloadField(e: Extract<Expr, { type: 'payload' }>, st: State): { source: Source; deps: number[] } | undefined {
  const whole = (field: Field, deps: Array<number | undefined>) => ({ source: { kind: 'field' as const, field, loadLen: e.len }, deps: defined(deps) });
  if (e.base === 'network') {
    const table = st.l3 === 'ip' ? IPV4 : st.l3 === 'ip6' ? IPV6 : undefined;
    const f = table?.find((f) => f.offset === e.offset && (f.len === e.len || (isAddress(f) && e.len < f.len)));
    return f && whole(f, [st.l3Dep]);
  }
  if (e.base !== 'transport') return undefined;
  const icmp = st.l4 !== undefined ? ICMP[st.l4] : undefined;
  if (icmp) {
    // icmp implies ipv4 and icmpv6 ipv6: nft drops the nfproto match too.
    const l3 = st.l4 === IPPROTO_ICMP ? 'ip' : 'ip6';
    const f = icmp.find((f) => f.offset === e.offset && f.len === e.len);
    return f && whole(f, [st.l4Dep, st.l3 === l3 ? st.l3Dep : undefined]);
  }
  if (e.len === 2 && (e.offset === 0 || e.offset === 2)) {
    const proto = st.l4 !== undefined ? PORT_PROTOCOLS[st.l4] : undefined;
    const name = `${proto ?? 'th'} ${e.offset === 0 ? 'sport' : 'dport'}`;
    return whole({ name, type: 'port', len: 2 }, [proto ? st.l4Dep : undefined]);
  }
  return undefined;
}

/** The number of leading one bits when `mask` is a prefix mask, else undefined. */
function prefixLength(mask: Buffer): number | undefined {
  const bits = [...mask].map((b) => b.toString(2).padStart(8, '0')).join('');
  if (!/^1*0*$/.test(bits)) return undefined;
  const zero = bits.indexOf('0');
  return zero < 0 ? bits.length : zero;
}

/** `icmp type X icmp code Y` from nft's merged 2-byte load. */
function icmpPair(field: Field, data: Buffer): string | undefined {
  if (data.length !== 2) return undefined;
  const [type, code]: ValueType[] = field.type === 'icmppair' ? ['icmptype', 'icmpcode'] : ['icmp6type', 'icmp6code'];
  const at = (i: number) => formatValue(i ? code! : type!, data.subarray(i, i + 1), 1);
  return `${field.name} type ${at(0)} ${field.name} code ${at(1)}`;
}

/** The text of a compare of `src` with `data`, or undefined when the shape is not nft's. */
function compareText(src: Source, op: CmpOp, data: Buffer): string | undefined {
  if (src.kind === 'field') {
    const { field, loadLen } = src;
    if (field.type === 'icmppair' || field.type === 'icmp6pair') return op === 'eq' ? icmpPair(field, data) : undefined;
    const prefix = loadLen < field.len ? loadLen * 8 : undefined;
    // An interface name compare may be shorter than the load: nft's "eth*" wildcard.
    if (field.type === 'ifname' ? data.length > loadLen : data.length !== loadLen) return undefined;
    const value = formatValue(field.type, data, field.len, prefix);
    if (value === undefined || (prefix !== undefined && op !== 'eq' && op !== 'neq')) return undefined;
    return `${field.name} ${OP_TEXT[op]}${value}`;
  }
  if (src.kind !== 'masked' || src.xor.some((b) => b !== 0)) return undefined;
  const { field, mask } = src;
  if ((field.type === 'ctstate' || field.type === 'ctstatus') && op === 'neq' && data.every((b) => b === 0)) {
    // nft's flag test: `ct state established,related` is (state & mask) != 0 (nft src/netlink_linearize.c).
    const names = bitNames(hostU32Value(mask) ?? 0, field.type === 'ctstate' ? CT_STATE_BITS : CT_STATUS_BITS);
    return names && `${field.name} ${names}`;
  }
  const bits = prefixLength(mask);
  if (isAddress(field) && bits !== undefined && mask.length === field.len && (op === 'eq' || op === 'neq')) {
    const value = formatValue(field.type as ValueType, data, field.len);
    return value && `${field.name} ${OP_TEXT[op]}${value}/${bits}`;
  }
  if (field.type === 'mark') {
    const [m, v] = [formatValue('mark', mask, 4), formatValue('mark', data, 4)];
    return m && v && `${field.name} & ${m} ${op === 'eq' ? '==' : OP_TEXT[op].trim()} ${v}`;
  }
  return undefined;
}

/** A range bound: a whole value of a whole-field source. nft prints icmp types in ranges as numbers. */
function boundText(src: Source, data: Buffer): string | undefined {
  if (src.kind !== 'field' || src.loadLen !== src.field.len || data.length !== src.field.len) return undefined;
  const type = src.field.type;
  if (type === 'icmppair' || type === 'icmp6pair') return undefined;
  return type.startsWith('icmp') ? String(data[0]) : formatValue(type, data, src.field.len);
}

/** The whole-field name of a source, for lookups and as the value of a set statement. */
function sourceName(src: Source): string | undefined {
  if (src.kind === 'field') return src.loadLen === src.field.len && !src.field.type.endsWith('pair') ? src.field.name : undefined;
  if (src.kind === 'text') return src.text;
  if (src.kind === 'masked' && src.field.type === 'mark' && src.xor.every((b) => b === 0)) {
    return `${src.field.name} & ${formatValue('mark', src.mask, 4)}`;
  }
  return undefined;
}

function logText(e: Extract<Expr, { type: 'log' }>): string {
  const parts = ['log'];
  if (e.prefix !== undefined) parts.push(`prefix "${e.prefix}"`);
  if (e.group !== undefined) parts.push(`group ${e.group}`);
  if (e.snaplen !== undefined) parts.push(`snaplen ${e.snaplen}`);
  if (e.qthreshold !== undefined) parts.push(`queue-threshold ${e.qthreshold}`);
  if (e.level !== undefined && e.level !== NFT_LOGLEVEL_WARNING) parts.push(`level ${LOG_LEVELS[e.level] ?? e.level}`);
  const f = e.flags ?? 0;
  // nft src/statement.c log_stmt_print.
  if ((f & 0x2f) === 0x2f) parts.push('flags all');
  else {
    if (f & 0x3) parts.push(`flags tcp ${[f & 0x1 && 'sequence', f & 0x2 && 'options'].filter(Boolean).join(',')}`);
    if (f & 0x4) parts.push('flags ip options');
    if (f & 0x8) parts.push('flags skuid');
    if (f & 0x20) parts.push('flags ether');
  }
  return parts.join(' ');
}

/** Bytes in the largest unit that divides them evenly (nft src/statement.c get_rate). */
function byteRate(n: bigint): string {
  const units = ['bytes', 'kbytes', 'mbytes'];
  let i = 0;
  while (i < units.length - 1 && n > 0n && n % 1024n === 0n) {
    n /= 1024n;
    i++;
  }
  return `${n} ${units[i]}`;
}

function limitText(e: Extract<Expr, { type: 'limit' }>): string {
  const unit = TIME_UNITS[String(e.unit)] ?? `${e.unit} seconds`;
  const over = e.invert ? 'over ' : '';
  if (e.limitType === 'bytes') {
    return `limit rate ${over}${byteRate(e.rate)}/${unit}${e.burst ? ` burst ${byteRate(BigInt(e.burst))}` : ''}`;
  }
  // nft prints the burst of a packet limit unless it is its default, 5.
  return `limit rate ${over}${e.rate}/${unit}${e.burst !== 5 && e.burst !== 0 ? ` burst ${e.burst} packets` : ''}`;
}

/** Formats one rule's expressions; see the file comment for what is covered. */
export function formatExprs(exprs: readonly Expr[], ctx: FormatContext = {}): string {
  const out: string[] = exprs.map(() => '');
  const consumed = new Set<number>();
  const regs = new Registers<Value>();
  const st: State = { l3: ctx.family === 'ip' ? 'ip' : ctx.family === 'ip6' ? 'ip6' : undefined };

  const emit = (i: number, text: string, inputs: Array<{ value: Value; used: boolean }> = []) => {
    out[i] = text;
    consumed.add(i);
    for (const input of inputs) {
      input.used = true;
      input.value.at.forEach((j) => consumed.add(j));
      for (const dep of input.value.deps) {
        out[dep] = '';
        if (dep === st.l3Dep) st.l3Dep = undefined;
        if (dep === st.l4Dep) st.l4Dep = undefined;
      }
    }
  };

  /** Records what a `meta nfproto|protocol|l4proto` match establishes for the fields after it. */
  const noteDependency = (i: number, src: Source, op: CmpOp, data: Buffer) => {
    if (src.kind !== 'field' || op !== 'eq') return;
    const name = src.field.name;
    const l3 =
      name === 'meta nfproto' ? { 2: 'ip', 10: 'ip6' }[data[0]!]
      : name === 'meta protocol' && data.length === 2 ? { 0x0800: 'ip', 0x86dd: 'ip6' }[data.readUInt16BE(0)]
      : undefined;
    if (l3) Object.assign(st, { l3, l3Dep: i });
    if (name === 'meta l4proto') Object.assign(st, { l4: data[0], l4Dep: i });
  };

  for (let i = 0; i < exprs.length; i++) {
    const e = exprs[i]!;
    switch (e.type) {
      case 'meta':
      case 'ct': {
        const field = e.type === 'meta' ? META[e.key] : ctField(e.key, e.direction);
        if ('dreg' in e) {
          regs.write(e.dreg, field?.len ?? UNKNOWN_LEN, field && { source: { kind: 'field', field, loadLen: field.len }, at: [i], deps: [] });
          break;
        }
        const input = regs.get(e.sreg);
        if (!field || !input) break;
        const src = input.value.source;
        const value = src.kind === 'data' ? formatValue(field.type as ValueType, src.data, field.len) : sourceName(src);
        if (value !== undefined) emit(i, `${field.name} set ${value}`, [input]);
        break;
      }
      case 'payload': {
        const found = payloadField(e, st);
        regs.write(e.dreg, e.len, found && { ...found, at: [i] });
        break;
      }
      case 'immediate':
        if ('verdict' in e) emit(i, e.verdict.chain !== undefined ? `${e.verdict.kind} ${e.verdict.chain}` : e.verdict.kind);
        else regs.write(e.dreg, e.data.length, { source: { kind: 'data', data: e.data }, at: [i], deps: [] });
        break;
      case 'bitwise': {
        const input = regs.get(e.sreg);
        const src = input?.value.source;
        const whole = input && src?.kind === 'field' && src.loadLen === src.field.len;
        const masked: Value | undefined = whole
          ? { source: { kind: 'masked', field: src.field, mask: e.mask, xor: e.xor }, at: [...input.value.at, i], deps: input.value.deps }
          : undefined;
        regs.write(e.dreg, e.len, masked);
        break;
      }
      case 'cmp': {
        const input = regs.get(e.sreg);
        if (!input) break;
        const src = input.value.source;
        const next = exprs[i + 1];
        // nft 1.0 compiles `th dport 1000-2000` to >= and <= (the range expression only for !=).
        if (e.op === 'gte' && next?.type === 'cmp' && next.op === 'lte' && next.sreg === e.sreg) {
          const [name, lo, hi] = [sourceName(src), boundText(src, e.data), boundText(src, next.data)];
          if (name && lo && hi) {
            emit(i, `${name} ${lo}-${hi}`, [input]);
            emit(++i, '');
            break;
          }
        }
        const text = compareText(src, e.op, e.data);
        if (text) {
          emit(i, text, [input]);
          noteDependency(i, src, e.op, e.data);
        }
        break;
      }
      case 'range': {
        const input = regs.get(e.sreg);
        if (!input) break;
        const src = input.value.source;
        const [name, lo, hi] = [sourceName(src), boundText(src, e.from), boundText(src, e.to)];
        if (name && lo && hi) emit(i, `${name} ${e.op === 'neq' ? '!= ' : ''}${lo}-${hi}`, [input]);
        break;
      }
      case 'lookup': {
        const parts = regs.concatenation(e.sreg);
        const names = parts.map((p) => sourceName(p.value.source));
        const key = parts.length && names.every((n) => n !== undefined) ? names.join(' . ') : undefined;
        if (e.dreg !== undefined && e.dreg !== 0) {
          // A map lookup's value is read by the set statement that uses dreg.
          const text = key && `${key} map @${e.set}`;
          if (text) parts.forEach((p) => (p.used = true));
          const value: Value | undefined = text
            ? { source: { kind: 'text', text }, at: [...parts.flatMap((p) => p.value.at), i], deps: parts.flatMap((p) => p.value.deps) }
            : undefined;
          regs.write(e.dreg, UNKNOWN_LEN, value);
        } else if (key) {
          emit(i, e.dreg === 0 ? `${key} vmap @${e.set}` : `${key} ${e.invert ? '!= ' : ''}@${e.set}`, parts);
        }
        break;
      }
      case 'counter':
        emit(i, `counter packets ${e.packets} bytes ${e.bytes}`);
        break;
      case 'log':
        emit(i, logText(e));
        break;
      case 'limit':
        emit(i, limitText(e));
        break;
      case 'opaque':
        regs.clear();
        break;
    }
  }
  exprs.forEach((e, i) => {
    if (!consumed.has(i)) out[i] = describeExpr(e);
  });
  return out.filter((t) => t !== '').join(' ');
}
