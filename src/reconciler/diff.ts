// The differ: desired table vs live table -> the fewest nf_tables operations, as one ordered plan.
// Pure, no I/O.
//
// What it changes, and how (nftables-netlink.md 1.4, 3.2, 5.11, 5.15):
// - the table is created when absent, never deleted or recreated (only its dormant flag is updated);
// - a set is diffed by elements; a set whose definition (flags, key/data type or length, concat
//   fields) changed cannot be updated in place and is deleted and recreated; rules that look it up are
//   deleted first and re-inserted after it;
// - a base chain whose type, hook, priority or device changed (or a chain that turns base/regular)
//   cannot be altered (EBUSY/EEXIST, kubernetes PR #123162): it is flushed, deleted and re-added with
//   all its rules. A policy change alone is an in-place NEWCHAIN update;
// - rules are aligned with the live ones (equal ignoring counters and handles); unchanged ones are
//   untouched and keep counting, changed ones are replaced in place (NLM_F_REPLACE keeps the handle),
//   new ones are inserted before the next kept rule (or appended), stale ones deleted;
// - chains and sets that are not desired are removed after the rules that use them.
//
// Order inside the batch (the kernel checks references as each message is prepared, K-api):
//   A. table, new chains, new sets, element deletions then additions, chain policy updates;
//   B. rule deletions;  C. rule replacements;
//   D. stale/recreated chains flushed, stale/recreated sets deleted, then those chains deleted
//      (flushing releases what their rules use; deleting the sets releases chains their verdict-map
//      elements jump to, K-api nf_tables_delchain EBUSY);
//   E. recreated chains and sets added;  F. rule insertions.
// A rule being replaced or inserted may need sets and chains of A (present by then); a rule that
// referenced something deleted in D is gone by B/C; recreated objects are back in E before F.
import { Chain, NftSet, Rule, Ruleset } from '../nftables/model';
import { align } from './align';
import { diffElements } from './elements';
import { Plan, PlanOp, emptySummary } from './plan';
import {
  AnonSetResolver, anonResolver, anonSetsOf, isAnonymous, referencedChains, referencedSets, ruleKey,
} from './rule-key';

const TABLE_F_DORMANT = 0x1;

export class DiffError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'DiffError';
    this.code = code;
  }
}

export function diff(desired: Ruleset, live: Ruleset | undefined): Plan {
  return new Differ(desired, live).run();
}

/** True when every live rule carries its handle (a diff against it can replace and delete). */
export function hasAllHandles(rs: Ruleset): boolean {
  for (const rules of rs.rules.values()) for (const r of rules) if (r.handle === undefined) return false;
  return true;
}

function sameSetDefinition(a: NftSet, b: NftSet): boolean {
  const fields = (s: NftSet): string =>
    JSON.stringify([s.flags, s.keyType, s.keyLen, s.dataType ?? 0, s.dataLen ?? 0, s.fieldLengths ?? []]);
  return fields(a) === fields(b);
}

function sameBaseSpec(a: Chain, b: Chain): boolean {
  if (!a.base || !b.base) return !a.base && !b.base;
  return a.base.type === b.base.type && a.base.hook === b.base.hook && a.base.priority === b.base.priority
    && (a.base.device ?? '') === (b.base.device ?? '');
}

class Differ {
  private readonly summary = emptySummary();
  private readonly handles = new Map<Rule, bigint>();
  private readonly phaseA: PlanOp[] = [];
  private readonly phaseB: PlanOp[] = [];
  private readonly phaseC: PlanOp[] = [];
  private readonly phaseD: PlanOp[] = [];
  private readonly phaseDSets: PlanOp[] = [];
  private readonly phaseDChains: PlanOp[] = [];
  private readonly phaseE: PlanOp[] = [];
  private readonly phaseF: PlanOp[] = [];
  /** Names of live sets and chains that are deleted and added again in this plan. */
  private readonly recreatedSets = new Set<string>();
  private readonly recreatedChains = new Set<string>();
  private readonly desiredRes: AnonSetResolver;
  private readonly liveRes: AnonSetResolver;

  constructor(private readonly desired: Ruleset, private readonly live: Ruleset | undefined) {
    this.desiredRes = anonResolver(desired.sets);
    this.liveRes = anonResolver(live?.sets ?? []);
  }

  run(): Plan {
    this.diffTable();
    this.diffChains();
    this.diffSets();
    for (const chain of this.desired.chains) this.diffRules(chain);
    const ops = [...this.phaseA, ...this.phaseB, ...this.phaseC, ...this.phaseD, ...this.phaseDSets, ...this.phaseDChains, ...this.phaseE, ...this.phaseF];
    return { ops, summary: this.summary, handles: this.handles };
  }

  private diffTable(): void {
    const want = this.desired.table;
    const have = this.live?.table;
    if (have && ((want.flags ?? 0) & TABLE_F_DORMANT) === ((have.flags ?? 0) & TABLE_F_DORMANT)) return;
    this.phaseA.push({ op: 'addTable', table: want });
    if (!have) this.summary.tablesAdded++;
  }

  private diffChains(): void {
    const liveChains = new Map((this.live?.chains ?? []).map((c) => [c.name, c]));
    const wanted = new Set(this.desired.chains.map((c) => c.name));
    for (const chain of this.desired.chains) {
      const have = liveChains.get(chain.name);
      if (!have) {
        this.phaseA.push({ op: 'addChain', chain });
        this.summary.chainsAdded++;
      } else if (!sameBaseSpec(chain, have)) {
        this.removeChain(have);
        this.phaseE.push({ op: 'addChain', chain });
        this.summary.chainsAdded++;
        this.recreatedChains.add(chain.name);
      } else if (chain.base && have.base && chain.base.policy !== have.base.policy) {
        this.phaseA.push({ op: 'addChain', chain });
      }
    }
    for (const have of this.live?.chains ?? []) if (!wanted.has(have.name)) this.removeChain(have);
  }

  /** Flush first so the chain's rules release the chains and sets they reference, whatever the deletion order. */
  private removeChain(chain: Chain): void {
    this.phaseD.push({ op: 'flushChain', chain });
    this.phaseDChains.push({ op: 'deleteChain', chain });
    this.summary.chainsDeleted++;
    this.summary.rulesDeleted += this.live?.rules.get(chain.name)?.length ?? 0;
  }

  private diffSets(): void {
    const named = (sets: readonly NftSet[]): NftSet[] => sets.filter((s) => !isAnonymous(s));
    const liveSets = new Map(named(this.live?.sets ?? []).map((s) => [s.name, s]));
    const wanted = new Set(named(this.desired.sets).map((s) => s.name));
    const elementDeletes: PlanOp[] = [];
    const elementAdds: PlanOp[] = [];
    for (const set of named(this.desired.sets)) {
      const have = liveSets.get(set.name);
      if (!have) {
        this.phaseA.push({ op: 'addSet', set });
        this.countAddedSet(set);
      } else if (!sameSetDefinition(set, have)) {
        this.removeSet(have);
        this.phaseE.push({ op: 'addSet', set });
        this.countAddedSet(set);
        this.recreatedSets.add(set.name);
      } else {
        const delta = diffElements(set, set.elements ?? [], have.elements ?? []);
        if (delta.remove.length > 0) elementDeletes.push({ op: 'deleteElements', set, elements: delta.remove });
        if (delta.add.length > 0) elementAdds.push({ op: 'addElements', set, elements: delta.add });
        this.summary.elementsDeleted += delta.remove.length;
        this.summary.elementsAdded += delta.add.length;
      }
    }
    this.phaseA.push(...elementDeletes, ...elementAdds);
    for (const have of liveSets.values()) if (!wanted.has(have.name)) this.removeSet(have);
  }

  private countAddedSet(set: NftSet): void {
    this.summary.setsAdded++;
    this.summary.elementsAdded += set.elements?.length ?? 0;
  }

  private removeSet(set: NftSet): void {
    this.phaseDSets.push({ op: 'deleteSet', set });
    this.summary.setsDeleted++;
  }

  /** A live rule that uses a recreated object cannot stay or be replaced: it goes before the object. */
  private mustDeleteLive(r: Rule): boolean {
    return referencedSets(r, this.liveRes).some((s) => this.recreatedSets.has(s))
      || referencedChains(r).some((c) => this.recreatedChains.has(c));
  }

  /** A desired rule that uses a recreated object can only be inserted after the object is back. */
  private mustInsertDesired(r: Rule): boolean {
    return referencedSets(r, this.desiredRes).some((s) => this.recreatedSets.has(s))
      || referencedChains(r).some((c) => this.recreatedChains.has(c));
  }

  private diffRules(chain: Chain): void {
    const wantRules = this.desired.rules.get(chain.name) ?? [];
    const liveChain = this.live?.chains.find((c) => c.name === chain.name);
    const haveRules = liveChain && !this.recreatedChains.has(chain.name) ? this.live!.rules.get(chain.name) ?? [] : [];
    const haveKeys = haveRules.map((r) => {
      if (r.handle === undefined) {
        throw new DiffError('DIFF_NO_HANDLE', `live rule in chain ${chain.name} has no handle: dump the table before diffing`);
      }
      return this.mustDeleteLive(r) ? null : ruleKey(r, this.liveRes);
    });
    const wantKeys = wantRules.map((r) => ruleKey(r, this.desiredRes));
    const pairs = align(haveKeys, wantKeys);
    pairs.push([haveRules.length, wantRules.length]);
    let li = 0;
    let di = 0;
    for (const [lEnd, dEnd] of pairs) {
      if (lEnd < haveRules.length) this.handles.set(wantRules[dEnd]!, haveRules[lEnd]!.handle!);
      const anchor = haveRules[lEnd]?.handle;
      this.diffGap(haveRules.slice(li, lEnd), haveKeys.slice(li, lEnd), wantRules.slice(di, dEnd), anchor);
      li = lEnd + 1;
      di = dEnd + 1;
    }
  }

  /**
   * One run of unmatched rules between two kept ones. Leading desired rules replace live ones in
   * order; the remaining desired rules are inserted before the kept rule that closes the gap (so they
   * land after the replaced ones); remaining live rules are deleted.
   */
  private diffGap(live: Rule[], liveKeys: (string | null)[], want: Rule[], anchor: bigint | undefined): void {
    const replaceable = live.filter((_, k) => liveKeys[k] !== null);
    let k = 0;
    while (k < replaceable.length && k < want.length && !this.mustInsertDesired(want[k]!)) {
      const rule = { ...want[k]!, handle: replaceable[k]!.handle! };
      this.withAnonSets(this.phaseC, want[k]!);
      this.phaseC.push({ op: 'replaceRule', rule });
      this.handles.set(want[k]!, rule.handle);
      this.summary.rulesReplaced++;
      k++;
    }
    const replaced = new Set(replaceable.slice(0, k));
    for (const r of live) {
      if (replaced.has(r)) continue;
      this.phaseB.push({ op: 'deleteRule', rule: { ...r, handle: r.handle! } });
      this.summary.rulesDeleted++;
    }
    for (const r of want.slice(k)) {
      this.withAnonSets(this.phaseF, r);
      this.phaseF.push(anchor === undefined ? { op: 'addRule', rule: r } : { op: 'addRule', rule: r, before: anchor });
      this.summary.rulesAdded++;
    }
  }

  /** Anonymous sets are created in the same batch just before the rule that binds them (gnft PR #79). */
  private withAnonSets(phase: PlanOp[], r: Rule): void {
    for (const set of anonSetsOf(r, this.desiredRes)) phase.push({ op: 'addSet', set });
  }
}
