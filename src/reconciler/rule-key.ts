// Canonical text keys for comparing desired rules with dumped ones. Two rules are "the same rule"
// when their expressions and comment are equal ignoring what the kernel owns: counter values,
// handles, positions and transaction-local set ids. Anonymous sets (the `{...}` of a rule) get
// kernel-chosen names (`__set%d`, K-api nf_tables_set_alloc_name), so a lookup into one is keyed by
// the set's content instead of its name.
import { Expr, NftSet, Rule, SetElement, SetFlags } from '../nftables/model';

/** Resolves the anonymous set a lookup names (by name, or by set id for desired rules). */
export type AnonSetResolver = (e: Extract<Expr, { type: 'lookup' }>) => NftSet | undefined;

export function isAnonymous(s: NftSet): boolean {
  return (s.flags & SetFlags.anonymous) !== 0;
}

/** A resolver over a ruleset's anonymous sets. */
export function anonResolver(sets: readonly NftSet[]): AnonSetResolver {
  const byName = new Map<string, NftSet>();
  const byId = new Map<number, NftSet>();
  for (const s of sets) {
    if (!isAnonymous(s)) continue;
    byName.set(s.name, s);
    if (s.id !== undefined) byId.set(s.id, s);
  }
  return (e) => (e.setId !== undefined ? byId.get(e.setId) : undefined) ?? byName.get(e.set);
}

/** Key of one value: buffers as hex, bigints as decimal, objects with sorted keys; `undefined` and `false` are omitted (a decoder may spell an absent flag either way). */
export function valueKey(v: unknown): string {
  if (v === undefined || v === false) return '';
  if (Buffer.isBuffer(v)) return `x${v.toString('hex')}`;
  if (typeof v === 'bigint') return `n${v}`;
  if (Array.isArray(v)) return `[${v.map(valueKey).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const rec = v as Record<string, unknown>;
    const fields: string[] = [];
    for (const k of Object.keys(rec).sort()) {
      const s = valueKey(rec[k]);
      if (s !== '') fields.push(`${k}:${s}`);
    }
    return `{${fields.join(',')}}`;
  }
  return JSON.stringify(v);
}

export function elementKey(e: SetElement): string {
  return valueKey({ key: e.key, keyEnd: e.keyEnd, flags: e.flags || undefined, data: e.data, verdict: e.verdict, open: e.open });
}

/** Content key of an anonymous set: definition and elements in key order. */
function anonSetKey(s: NftSet): string {
  const elems = (s.elements ?? []).map(elementKey).sort();
  return valueKey({ flags: s.flags, keyType: s.keyType, keyLen: s.keyLen, dataType: s.dataType, dataLen: s.dataLen, elems });
}

function exprKey(e: Expr, resolve: AnonSetResolver): string {
  switch (e.type) {
    case 'counter':
      return 'counter';
    case 'lookup': {
      const anon = resolve(e);
      // The set id is transaction-local and never dumped (gnft #46): left out of the key.
      return valueKey({ ...e, setId: undefined, set: anon ? `anon${anonSetKey(anon)}` : e.set });
    }
    default:
      return valueKey(e);
  }
}

/**
 * Keys by expression list, for rules that use no anonymous set (`__set%d`, a set id: their key then depends on nothing
 * else). The committed view's rules share their expression lists with the desired rules they came
 * from, so the next diff does not re-key a thousand unchanged rules.
 */
const exprsKeyCache = new WeakMap<readonly Expr[], string>();

export function ruleKey(r: Rule, resolve: AnonSetResolver): string {
  let exprs = exprsKeyCache.get(r.exprs);
  if (exprs === undefined) {
    exprs = r.exprs.map((e) => exprKey(e, resolve)).join(';');
    if (!r.exprs.some((e) => e.type === 'lookup' && (e.setId !== undefined || e.set.startsWith('__') || resolve(e)))) exprsKeyCache.set(r.exprs, exprs);
  }
  return `${exprs}#${JSON.stringify(r.comment ?? '')}`;
}

/** Named sets a rule looks up (anonymous ones excluded: they live and die with the rule). */
export function referencedSets(r: Rule, resolve: AnonSetResolver): string[] {
  const out: string[] = [];
  for (const e of r.exprs) if (e.type === 'lookup' && !resolve(e)) out.push(e.set);
  return out;
}

/** Chains a rule jumps or goes to. */
export function referencedChains(r: Rule): string[] {
  const out: string[] = [];
  for (const e of r.exprs) {
    if (e.type === 'immediate' && 'verdict' in e && e.verdict.chain !== undefined) out.push(e.verdict.chain);
  }
  return out;
}

/** The anonymous sets a desired rule needs created with it, in the same batch. */
export function anonSetsOf(r: Rule, resolve: AnonSetResolver): NftSet[] {
  const out: NftSet[] = [];
  for (const e of r.exprs) {
    if (e.type !== 'lookup') continue;
    const s = resolve(e);
    if (s) out.push(s);
  }
  return out;
}
