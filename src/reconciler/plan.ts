// A plan: the ordered nf_tables operations that turn the live table into the desired one, in one
// batch. The differ (diff.ts) builds it without I/O; transaction.ts turns it into a kernel batch.
import { Chain, NftSet, Rule, SetElement, Table } from '../nftables/model';

export type PlanOp =
  | { op: 'addTable'; table: Table }
  | { op: 'addChain'; chain: Chain }
  /** DELRULE with table+chain only: drops every rule of the chain, releasing what they reference. */
  | { op: 'flushChain'; chain: Chain }
  | { op: 'deleteChain'; chain: Chain }
  /** NEWSET; carries its elements when it has any. */
  | { op: 'addSet'; set: NftSet }
  | { op: 'deleteSet'; set: NftSet }
  | { op: 'addElements'; set: NftSet; elements: SetElement[] }
  | { op: 'deleteElements'; set: NftSet; elements: SetElement[] }
  /** NEWRULE; inserted before the rule with handle `before`, appended when it is absent. */
  | { op: 'addRule'; rule: Rule; before?: bigint }
  /** NEWRULE with NLM_F_REPLACE: the rule takes the place and the handle of the live one. */
  | { op: 'replaceRule'; rule: Rule & { handle: bigint } }
  | { op: 'deleteRule'; rule: Rule & { handle: bigint } };

export interface PlanSummary {
  tablesAdded: number;
  chainsAdded: number;
  chainsDeleted: number;
  rulesAdded: number;
  rulesReplaced: number;
  rulesDeleted: number;
  setsAdded: number;
  setsDeleted: number;
  elementsAdded: number;
  elementsDeleted: number;
}

export interface Plan {
  ops: PlanOp[];
  summary: PlanSummary;
  /**
   * The handle each desired rule will have after the commit, where it is known in advance: kept
   * rules and replaced ones (REPLACE keeps the handle). Inserted rules get theirs from the kernel.
   */
  handles: Map<Rule, bigint>;
}

export function emptySummary(): PlanSummary {
  return {
    tablesAdded: 0, chainsAdded: 0, chainsDeleted: 0, rulesAdded: 0, rulesReplaced: 0, rulesDeleted: 0,
    setsAdded: 0, setsDeleted: 0, elementsAdded: 0, elementsDeleted: 0,
  };
}

/** "chains +1 -0, rules +3 ~1 -2, sets +0 -0, elements +10 -4": the plan in one log-friendly line. */
export function formatSummary(s: PlanSummary): string {
  const parts = [
    `chains +${s.chainsAdded} -${s.chainsDeleted}`,
    `rules +${s.rulesAdded} ~${s.rulesReplaced} -${s.rulesDeleted}`,
    `sets +${s.setsAdded} -${s.setsDeleted}`,
    `elements +${s.elementsAdded} -${s.elementsDeleted}`,
  ];
  if (s.tablesAdded > 0) parts.unshift(`table +${s.tablesAdded}`);
  return parts.join(', ');
}
