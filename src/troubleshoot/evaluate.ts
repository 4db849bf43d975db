// A model of the nf_tables packet path for one table: it runs the table's base chains on a Packet
// the way net/netfilter/nf_tables_core.c (nft_do_chain) does — expressions left to right in 4-byte
// register slots, NFT_BREAK ends a rule, jump/goto/return walk a chain stack, the base chain's
// policy decides when nothing else did — and records the path. `flockguard explain` uses it on
// the compiled table, so the answer is about the policy the kernel holds, not a re-reading of YAML.
import { endianness } from 'node:os';
import { Chain, Expr, NftSet, Rule, Ruleset, SetElement, SetFlags, Verdict } from '../nftables/model';
import { elementsToRanges } from '../nftables/intervals';
import { Packet } from './packet';

export interface PathStep {
  chain: string;
  /** Index of the rule in its chain. */
  index: number;
  comment?: string;
  /** What the rule did: a verdict, or 'continue' for a matching rule without one (log, counter). */
  verdict: Verdict['kind'];
  target?: string;
}

export interface Evaluation {
  /** accept or drop decided by a rule or a base chain policy. */
  verdict: 'accept' | 'drop';
  /** The rule that decided, absent when the base chain's policy did. */
  decidedBy?: PathStep;
  /** Every rule that matched, in order. */
  path: PathStep[];
  /** Log statements that fired (their prefixes). */
  logged: string[];
}

// NF_CT_STATE_BIT(ctinfo) = 1 << (ctinfo + 1), untracked 1 << 6 (include/uapi/.../nf_conntrack_common.h).
const CT_STATE_BITS: Record<Packet['ctState'], number> = { invalid: 1, established: 2, related: 4, new: 8, untracked: 0x40 };

/** Registers: NFT_REG_1..4 are 16-byte registers over the same space as NFT_REG32_00..15. */
function slot(reg: number): number {
  if (reg >= 8) return (reg - 8) * 4;
  return (reg - 1) * 16;
}

class Registers {
  readonly bytes = Buffer.alloc(64);

  load(reg: number, value: Buffer): void {
    // Loads zero-pad to a 4-byte boundary, as the kernel's register stores do.
    const at = slot(reg);
    this.bytes.fill(0, at, at + ((value.length + 3) & ~3));
    value.copy(this.bytes, at);
  }

  read(reg: number, len: number): Buffer {
    const at = slot(reg);
    return this.bytes.subarray(at, at + len);
  }
}

/** The table holds something the model cannot follow (an unknown chain or set, an opaque expression, a loop). */
export class EvaluateError extends Error {
  readonly code = 'EXPLAIN_UNSUPPORTED';
}

type RuleOutcome = { kind: 'break' } | { kind: 'next' } | { kind: 'verdict'; verdict: Verdict };

export function evaluate(table: Ruleset, packet: Packet): Evaluation {
  const sets = new Map(table.sets.map((s) => [s.name, s] as const));
  const chains = new Map(table.chains.map((c) => [c.name, c] as const));
  const result: Evaluation = { verdict: 'accept', path: [], logged: [] };
  const bases = table.chains.filter((c) => c.base).sort((a, b) => a.base!.priority - b.base!.priority);
  for (const base of bases) {
    const verdict = runBaseChain(base, table, chains, sets, packet, result);
    if (verdict === 'drop') {
      result.verdict = 'drop';
      return result;
    }
  }
  return result;
}

function runBaseChain(
  base: Chain,
  table: Ruleset,
  chains: Map<string, Chain>,
  sets: Map<string, NftSet>,
  packet: Packet,
  result: Evaluation,
): 'accept' | 'drop' {
  const stack: Array<{ chain: string; next: number }> = [];
  let chain = base.name;
  let index = 0;
  for (let steps = 0; steps < 100_000; steps++) {
    const rules = table.rules.get(chain) ?? [];
    if (index >= rules.length) {
      const frame = stack.pop();
      if (!frame) {
        result.decidedBy = undefined;
        return base.base!.policy;
      }
      chain = frame.chain;
      index = frame.next;
      continue;
    }
    const rule = rules[index];
    const outcome = runRule(rule, sets, packet, result);
    if (outcome.kind === 'break') {
      index++;
      continue;
    }
    const verdict: Verdict = outcome.kind === 'verdict' ? outcome.verdict : { kind: 'continue' };
    const step: PathStep = { chain, index, comment: rule.comment, verdict: verdict.kind, target: verdict.chain };
    result.path.push(step);
    switch (verdict.kind) {
      case 'accept':
      case 'drop':
        result.decidedBy = step;
        return verdict.kind;
      case 'jump':
        stack.push({ chain, next: index + 1 });
        chain = requireChain(chains, verdict.chain);
        index = 0;
        break;
      case 'goto':
        chain = requireChain(chains, verdict.chain);
        index = 0;
        break;
      case 'return': {
        const frame = stack.pop();
        if (!frame) return base.base!.policy;
        chain = frame.chain;
        index = frame.next;
        break;
      }
      default:
        index++;
    }
  }
  throw new EvaluateError(`evaluation of chain ${base.name} did not terminate (a jump loop?)`);
}

function requireChain(chains: Map<string, Chain>, name: string | undefined): string {
  if (!name || !chains.has(name)) throw new EvaluateError(`jump to unknown chain ${name}`);
  return name;
}

function runRule(rule: Rule, sets: Map<string, NftSet>, packet: Packet, result: Evaluation): RuleOutcome {
  const regs = new Registers();
  for (const e of rule.exprs) {
    const outcome = runExpr(e, regs, sets, packet, result);
    if (outcome) return outcome;
  }
  return { kind: 'next' };
}

function runExpr(e: Expr, regs: Registers, sets: Map<string, NftSet>, packet: Packet, result: Evaluation): RuleOutcome | undefined {
  switch (e.type) {
    case 'meta':
      if ('dreg' in e) regs.load(e.dreg, metaValue(e.key, packet));
      return undefined;
    case 'payload': {
      const header = e.base === 'network' ? packet.network : e.base === 'transport' ? packet.transport : undefined;
      if (!header || e.offset + e.len > header.length) return { kind: 'break' };
      regs.load(e.dreg, header.subarray(e.offset, e.offset + e.len));
      return undefined;
    }
    case 'cmp':
      return compare(regs.read(e.sreg, e.data.length), e.op, e.data) ? undefined : { kind: 'break' };
    case 'range': {
      const v = regs.read(e.sreg, e.from.length);
      const inside = Buffer.compare(v, e.from) >= 0 && Buffer.compare(v, e.to) <= 0;
      return inside === (e.op === 'eq') ? undefined : { kind: 'break' };
    }
    case 'bitwise': {
      const v = Buffer.from(regs.read(e.sreg, e.len));
      for (let i = 0; i < e.len; i++) v[i] = (v[i] & e.mask[i]) ^ e.xor[i];
      regs.load(e.dreg, v);
      return undefined;
    }
    case 'lookup':
      return lookup(e, regs, sets);
    case 'ct':
      if ('dreg' in e) regs.load(e.dreg, ctValue(e.key, packet));
      return undefined;
    case 'immediate':
      if ('verdict' in e) return { kind: 'verdict', verdict: e.verdict };
      regs.load(e.dreg, e.data);
      return undefined;
    case 'log':
      result.logged.push(e.prefix ?? '');
      return undefined;
    case 'counter':
    case 'limit':
      return undefined;
    case 'opaque':
      throw new EvaluateError(`cannot evaluate expression "${e.name}"`);
  }
}

function compare(v: Buffer, op: string, data: Buffer): boolean {
  const c = Buffer.compare(v, data);
  switch (op) {
    case 'eq': return c === 0;
    case 'neq': return c !== 0;
    case 'lt': return c < 0;
    case 'lte': return c <= 0;
    case 'gt': return c > 0;
    default: return c >= 0;
  }
}

function lookup(e: Extract<Expr, { type: 'lookup' }>, regs: Registers, sets: Map<string, NftSet>): RuleOutcome | undefined {
  const set = sets.get(e.set);
  if (!set) throw new EvaluateError(`lookup in unknown set ${e.set}`);
  const key = regs.read(e.sreg, set.keyLen);
  const found = findElement(set, key);
  if (Boolean(found) === Boolean(e.invert)) return { kind: 'break' };
  if (e.dreg === 0 && found?.verdict) return { kind: 'verdict', verdict: found.verdict };
  if (e.dreg !== undefined && e.dreg !== 0 && found?.data) regs.load(e.dreg, found.data);
  return undefined;
}

function findElement(set: NftSet, key: Buffer): SetElement | undefined {
  const elements = set.elements ?? [];
  if (!(set.flags & SetFlags.interval)) return elements.find((el) => el.key.equals(key));
  if (set.flags & SetFlags.concat) {
    return elements.find((el) => Buffer.compare(key, el.key) >= 0 && Buffer.compare(key, el.keyEnd ?? el.key) <= 0);
  }
  for (const [lo, hi] of elementsToRanges(elements)) {
    if (Buffer.compare(key, lo) >= 0 && Buffer.compare(key, hi) <= 0) {
      return elements.find((el) => el.key.equals(lo)) ?? { key: lo };
    }
  }
  return undefined;
}

function metaValue(key: string, packet: Packet): Buffer {
  switch (key) {
    case 'iifname': {
      const b = Buffer.alloc(16);
      b.write(packet.iifname.slice(0, 15));
      return b;
    }
    case 'nfproto':
      return Buffer.from([packet.nfproto === 4 ? 2 : 10]);
    case 'l4proto':
    case 'protocol':
      return Buffer.from([packet.l4proto]);
    case 'mark':
      return hostU32(packet.mark);
    default:
      return hostU32(0);
  }
}

function ctValue(key: string, packet: Packet): Buffer {
  if (key === 'state') return hostU32(CT_STATE_BITS[packet.ctState]);
  return hostU32(0);
}

// meta mark and ct state are host-order u32 in registers (nft tests/py/any/ct.t.payload).
function hostU32(v: number): Buffer {
  const b = Buffer.alloc(4);
  if (endianness() === 'LE') b.writeUInt32LE(v >>> 0);
  else b.writeUInt32BE(v >>> 0);
  return b;
}
