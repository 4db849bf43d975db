// The expression registry: NFTA_LIST_ELEM { NFTA_EXPR_NAME, NFTA_EXPR_DATA } to and from Expr.
// An expression whose name has no codec here decodes as 'opaque' and re-encodes byte for byte.
import { AttributeReader, AttributeWriter } from '../../netlink';
import { Expr } from '../model';
import { ExprCodec } from './codec';
import { counter } from './counter';

const NFTA_LIST_ELEM = 1;
const NFTA_EXPR_NAME = 1;
const NFTA_EXPR_DATA = 2;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCodec = ExprCodec<any>;

/** Codecs by expression type (the Expr discriminant). */
const byType: Partial<Record<Expr['type'], AnyCodec>> = {
  counter,
};

/** Codecs by kernel expression name. */
const byName = new Map<string, [Expr['type'], AnyCodec]>(
  Object.entries(byType).map(([type, codec]) => [codec!.name, [type as Expr['type'], codec!]]),
);

/** Writes one expression as an NFTA_LIST_ELEM nest. */
export function writeExpr(w: AttributeWriter, e: Expr): void {
  w.nest(NFTA_LIST_ELEM, () => {
    if (e.type === 'opaque') {
      w.string(NFTA_EXPR_NAME, e.name);
      w.bytes(NFTA_EXPR_DATA, e.data);
      return;
    }
    const codec = byType[e.type];
    if (!codec) throw new Error(`no encoder for expression type ${e.type}`);
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
  const entry = byName.get(name);
  if (!entry) return { type: 'opaque', name, data: Buffer.from(data) };
  return entry[1].decode(new AttributeReader(data));
}

/** Reads the members of an NFTA_RULE_EXPRESSIONS nest. */
export function readExprs(list: AttributeReader): Expr[] {
  return list.all(NFTA_LIST_ELEM).map(readExpr);
}
