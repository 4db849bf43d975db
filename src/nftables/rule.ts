// Rules: NEWRULE / DELRULE requests and dumped rules (nf_tables_api.c nf_tables_newrule,
// nf_tables_fill_rule_info). The comment is NFTNL_UDATA_RULE_COMMENT with its NUL. Attribute order
// follows nft 1.0.6 (TABLE, CHAIN, HANDLE, EXPRESSIONS, POSITION, USERDATA).
import { AttributeWriter, endMessage } from '../netlink';
import { NFTA_RULE, NftMsg, familyNumber } from './constants';
import { readExprs, writeExprs } from './expr/index';
import { NftMessage, beginNftMessage, requireFamily, requireString } from './message';
import { Rule } from './model';
import { ObjectOp } from './table';
import { UDATA_COMMENT, commentValue, decodeUdata, encodeUdata, readUdataString } from './userdata';

export function describeRule(r: Pick<Rule, 'family' | 'table' | 'chain' | 'comment' | 'handle'>): string {
  let s = `${r.family} ${r.table} chain ${r.chain} rule`;
  if (r.comment !== undefined) s += ` ${JSON.stringify(r.comment)}`;
  if (r.handle !== undefined) s += ` handle ${r.handle}`;
  return s;
}

/**
 * NEWRULE carries expressions, comment and an optional position (the handle to add after or insert
 * before, chosen by the APPEND flag in `op`); with `r.handle` and NLM_F_REPLACE it replaces that
 * rule in place. DELRULE carries table, chain and handle.
 */
export function encodeRule(w: AttributeWriter, r: Rule, op: ObjectOp, position?: bigint): void {
  const start = beginNftMessage(w, { ...op, family: familyNumber(r.family) });
  w.string(NFTA_RULE.TABLE, r.table);
  w.string(NFTA_RULE.CHAIN, r.chain);
  if (r.handle !== undefined) w.u64be(NFTA_RULE.HANDLE, r.handle);
  if (op.msg === NftMsg.NEWRULE) {
    const list = w.beginNest(NFTA_RULE.EXPRESSIONS);
    writeExprs(w, r.exprs);
    w.endNest(list);
    if (position !== undefined) w.u64be(NFTA_RULE.POSITION, position);
    if (r.comment !== undefined) {
      w.bytes(NFTA_RULE.USERDATA, encodeUdata([[UDATA_COMMENT, commentValue(r.comment, describeRule(r))]]));
    }
  }
  endMessage(w, start);
}

export function decodeRule(m: NftMessage): Rule {
  const a = m.attrs;
  const r: Rule = {
    family: requireFamily(m),
    table: requireString(a, NFTA_RULE.TABLE, 'rule table'),
    chain: requireString(a, NFTA_RULE.CHAIN, 'rule chain'),
    exprs: [],
  };
  const list = a.nest(NFTA_RULE.EXPRESSIONS);
  if (list) r.exprs = readExprs(list);
  const ud = a.bytes(NFTA_RULE.USERDATA);
  const comment = ud && readUdataString(decodeUdata(ud).get(UDATA_COMMENT));
  if (comment !== undefined) r.comment = comment;
  const handle = a.u64be(NFTA_RULE.HANDLE);
  if (handle !== undefined) r.handle = handle;
  const position = a.u64be(NFTA_RULE.POSITION);
  if (position !== undefined) r.position = position;
  return r;
}
