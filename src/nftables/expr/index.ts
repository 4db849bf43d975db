// The expression registry: NFTA_LIST_ELEM { NFTA_EXPR_NAME, NFTA_EXPR_DATA } to and from Expr
// (kernel nf_tables_fill_expr_info / nf_tables_expr_parse in net/netfilter/nf_tables_api.c).
// An expression whose name has no codec here, or whose attributes a codec cannot express, decodes
// as 'opaque' and re-encodes byte for byte.
import { AttributeReader, AttributeWriter, NLA_F_NESTED } from '../../netlink';
import { Expr } from '../model';
import { ExprCodec, ExprError } from './codec';
import { bitwise } from './bitwise';
import { cmp } from './cmp';
import { counter } from './counter';
import { ct } from './ct';
import { immediate } from './immediate';
import { limit } from './limit';
import { log } from './log';
import { lookup } from './lookup';
import { meta } from './meta';
import { payload } from './payload';
import { range } from './range';

export { ExprError } from './codec';
export { dumpedForm } from './dumped';

const NFTA_LIST_ELEM = 1;
const NFTA_EXPR_NAME = 1;
const NFTA_EXPR_DATA = 2;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCodec = ExprCodec<any>;

/** Codecs by expression type (the Expr discriminant). */
const byType: Record<Exclude<Expr['type'], 'opaque'>, AnyCodec> = {
  meta,
  payload,
  cmp,
  range,
  bitwise,
  lookup,
  ct,
  counter,
  log,
  limit,
  immediate,
};

/** Codecs by kernel expression name. */
const byName = new Map<string, AnyCodec>(Object.values(byType).map((codec) => [codec.name, codec]));

/** Writes one expression as an NFTA_LIST_ELEM nest. */
export function writeExpr(w: AttributeWriter, e: Expr): void {
  w.nest(NFTA_LIST_ELEM, () => {
    if (e.type === 'opaque') {
      w.string(NFTA_EXPR_NAME, e.name);
      // The data is a nest, flagged as nft flags it. An expression without attributes (notrack)
      // has no NFTA_EXPR_DATA at all, from nft and in kernel dumps (no ->dump op), so empty data
      // is written as no attribute.
      if (e.data.length) w.bytes(NFTA_EXPR_DATA | NLA_F_NESTED, e.data);
      return;
    }
    const codec = byType[e.type];
    if (!codec) throw new ExprError('(unknown)', 'type', (e as { type: unknown }).type, 'no encoder for this expression type');
    w.string(NFTA_EXPR_NAME, codec.name);
    w.nest(NFTA_EXPR_DATA, () => codec.encode(w, e));
  });
}

/** Writes a list of expressions (the members of NFTA_RULE_EXPRESSIONS). */
export function writeExprs(w: AttributeWriter, exprs: readonly Expr[]): void {
  for (const e of exprs) writeExpr(w, e);
}

/** Reads one NFTA_LIST_ELEM payload. */
export function readExpr(elem: Buffer): Expr {
  const r = new AttributeReader(elem);
  const name = r.string(NFTA_EXPR_NAME) ?? '';
  const data = r.bytes(NFTA_EXPR_DATA) ?? Buffer.alloc(0);
  const decoded = byName.get(name)?.decode(new AttributeReader(data));
  return decoded ?? { type: 'opaque', name, data: Buffer.from(data) };
}

/** Reads the members of an NFTA_RULE_EXPRESSIONS nest. */
export function readExprs(list: AttributeReader): Expr[] {
  return list.all(NFTA_LIST_ELEM).map(readExpr);
}
