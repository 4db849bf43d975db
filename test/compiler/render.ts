// Test-only: Ruleset to nft text, for golden tests and for loading the compiled table with `nft -f`
// into the test namespace. It reads back exactly the expression sequences src/compiler/exprs.ts
// emits and fails loudly on anything else, so a new form cannot slip through unrendered.
import { Expr, NftSet, Rule, Ruleset } from '../../src/nftables/model';
import { elementsToRanges } from '../../src/nftables/intervals';

const NFPROTO: Record<number, string> = { 2: 'ipv4', 10: 'ipv6' };
const CT_BITS: Array<[number, string]> = [[1, 'invalid'], [2, 'established'], [4, 'related'], [8, 'new']];

export function renderRuleset(rs: Ruleset): string {
  const lines = [`table ${rs.table.family} ${rs.table.name} {`];
  for (const s of rs.sets) lines.push(...renderSet(s));
  for (const c of rs.chains) {
    lines.push(`\tchain ${c.name} {`);
    if (c.base) lines.push(`\t\ttype ${c.base.type} hook ${c.base.hook} priority ${c.base.priority}; policy ${c.base.policy};`);
    for (const r of rs.rules.get(c.name) ?? []) lines.push(`\t\t${renderRule(r)}`);
    lines.push('\t}');
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

function typeName(s: NftSet): string {
  const names: Record<number, string> = { 7: 'ipv4_addr', 8: 'ipv6_addr', 12: 'inet_proto', 13: 'inet_service' };
  const parts: string[] = [];
  for (let t = s.keyType; t > 0; t = Math.floor(t / 64)) parts.unshift(names[t % 64] ?? `?${t % 64}`);
  return parts.join(' . ');
}

function renderSet(s: NftSet): string[] {
  const out = [`\tset ${s.name} {`, `\t\ttype ${typeName(s)}`];
  if (s.flags & 0x4) out.push('\t\tflags interval');
  if (s.comment) out.push(`\t\tcomment ${JSON.stringify(s.comment)}`);
  const elems = s.elements ?? [];
  if (elems.length) out.push(`\t\telements = { ${renderElements(s).join(', ')} }`);
  out.push('\t}');
  return out;
}

function renderElements(s: NftSet): string[] {
  const type = typeName(s);
  const value = (b: Buffer): string => (type === 'inet_service' ? String(b.readUInt16BE(0)) : addr(b));
  if (s.flags & 0x4) {
    return elementsToRanges(s.elements ?? []).map(([lo, hi]) => (lo.equals(hi) ? value(lo) : `${value(lo)}-${value(hi)}`));
  }
  if (!type.includes(' . ')) return (s.elements ?? []).map((e) => value(e.key));
  return (s.elements ?? []).map((e) => {
    const a = e.key.subarray(0, e.key.length - 8);
    return `${addr(a)} . ${e.key[a.length]} . ${e.key.readUInt16BE(a.length + 4)}`;
  });
}

export function addr(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return groups.join(':');
}

export function renderRule(r: Rule): string {
  const words = renderExprs(r.exprs);
  if (r.comment) words.push(`comment ${JSON.stringify(r.comment)}`);
  return words.join(' ');
}

function hostU32(b: Buffer): number {
  return b.readUInt32LE(0);
}

function ops(op: string): string {
  return op === 'eq' ? '' : '!= ';
}

export function renderExprs(exprs: readonly Expr[]): string[] {
  const out: string[] = [];
  let i = 0;
  const at = <T extends Expr['type']>(k: number, type: T): Extract<Expr, { type: T }> => {
    const e = exprs[k];
    if (!e || e.type !== type) throw new Error(`render: expected ${type} at ${k} in ${JSON.stringify(exprs)}`);
    return e as Extract<Expr, { type: T }>;
  };
  while (i < exprs.length) {
    const e = exprs[i];
    if (e.type === 'meta' && 'dreg' in e && e.key === 'nfproto') {
      const c = at(i + 1, 'cmp');
      out.push(`meta nfproto ${ops(c.op)}${NFPROTO[c.data[0]]}`);
      i += 2;
    } else if (e.type === 'meta' && 'dreg' in e && e.key === 'l4proto') {
      const c = at(i + 1, 'cmp');
      out.push(`meta l4proto ${ops(c.op)}${c.data[0]}`);
      i += 2;
    } else if (e.type === 'meta' && 'dreg' in e && e.key === 'iifname') {
      out.push(`iifname ${JSON.stringify(at(i + 1, 'cmp').data.toString('utf8').replace(/\0+$/, ''))}`);
      i += 2;
    } else if (e.type === 'ct') {
      const mask = hostU32(at(i + 1, 'bitwise').mask);
      at(i + 2, 'cmp');
      out.push(`ct state ${CT_BITS.filter(([bit]) => mask & bit).map(([, n]) => n).join(',')}`);
      i += 3;
    } else if (e.type === 'payload' && e.base === 'network') {
      i = renderNetwork(exprs, i, out, at);
    } else if (e.type === 'payload' && e.base === 'transport') {
      i = renderTransport(exprs, i, out, at);
    } else if (e.type === 'counter') {
      out.push('counter');
      i++;
    } else if (e.type === 'log') {
      out.push(`log prefix ${JSON.stringify(e.prefix)}`);
      i++;
    } else if (e.type === 'immediate' && 'verdict' in e) {
      out.push(e.verdict.chain ? `${e.verdict.kind} ${e.verdict.chain}` : e.verdict.kind);
      i++;
    } else {
      throw new Error(`render: unexpected ${JSON.stringify(e)}`);
    }
  }
  return out;
}

type At = <T extends Expr['type']>(k: number, type: T) => Extract<Expr, { type: T }>;

function renderNetwork(exprs: readonly Expr[], i: number, out: string[], at: At): number {
  const p = at(i, 'payload');
  const v6 = p.offset === 8 || p.offset === 24;
  const field = `${v6 ? 'ip6' : 'ip'} ${p.offset === 12 || p.offset === 8 ? 'saddr' : 'daddr'}`;
  const full = v6 ? 16 : 4;
  const next = exprs[i + 1];
  if (next.type === 'meta') {
    const port = at(i + 2, 'payload');
    const l = at(i + 3, 'lookup');
    out.push(`${field} . meta l4proto . th ${port.offset === 0 ? 'sport' : 'dport'} ${l.invert ? '!= ' : ''}@${l.set}`);
    return i + 4;
  }
  if (next.type === 'lookup') {
    out.push(`${field} ${next.invert ? '!= ' : ''}@${next.set}`);
    return i + 2;
  }
  if (next.type === 'bitwise') {
    const c = at(i + 2, 'cmp');
    let prefix = 0;
    for (const byte of next.mask) prefix += byte.toString(2).replace(/0/g, '').length;
    out.push(`${field} ${ops(c.op)}${addr(c.data)}/${prefix}`);
    return i + 3;
  }
  const c = at(i + 1, 'cmp');
  const a = Buffer.alloc(full);
  c.data.copy(a);
  out.push(`${field} ${ops(c.op)}${addr(a)}${p.len === full ? '' : `/${p.len * 8}`}`);
  return i + 2;
}

function renderTransport(exprs: readonly Expr[], i: number, out: string[], at: At): number {
  const p = at(i, 'payload');
  const next = exprs[i + 1];
  if (p.len === 2 && (p.offset === 0 || p.offset === 2) && !isIcmpContext(exprs)) {
    const field = `th ${p.offset === 0 ? 'sport' : 'dport'}`;
    if (next.type === 'lookup') {
      out.push(`${field} ${next.invert ? '!= ' : ''}@${next.set}`);
      return i + 2;
    }
    if (next.type === 'range') {
      out.push(`${field} != ${next.from.readUInt16BE(0)}-${next.to.readUInt16BE(0)}`);
      return i + 2;
    }
    const c = at(i + 1, 'cmp');
    if (c.op === 'gte') {
      out.push(`${field} ${c.data.readUInt16BE(0)}-${at(i + 2, 'cmp').data.readUInt16BE(0)}`);
      return i + 3;
    }
    out.push(`${field} ${ops(c.op)}${c.data.readUInt16BE(0)}`);
    return i + 2;
  }
  // One- or two-byte raw transport fields: ICMP type (and code).
  const c = at(i + 1, 'cmp');
  const bits = p.len * 8;
  if (c.op === 'gte') {
    out.push(`@th,${p.offset * 8},${bits} ${c.data[0]}-${at(i + 2, 'cmp').data[0]}`);
    return i + 3;
  }
  out.push(`@th,${p.offset * 8},${bits} ${ops(c.op)}0x${c.data.toString('hex')}`);
  return i + 2;
}

function isIcmpContext(exprs: readonly Expr[]): boolean {
  return exprs.some((e, k) => e.type === 'meta' && 'dreg' in e && e.key === 'l4proto' && (() => {
    const c = exprs[k + 1];
    return c?.type === 'cmp' && c.op === 'eq' && (c.data[0] === 1 || c.data[0] === 58);
  })());
}
