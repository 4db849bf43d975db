// The contract every expression file implements: one codec per nf_tables expression name, its
// encoder and decoder side by side. `encode` writes the members of NFTA_EXPR_DATA; `decode` reads
// them back. An encode followed by a decode yields an equal expression.
import { AttributeReader, AttributeWriter } from '../../netlink';
import { Expr } from '../model';

export type ExprOf<T extends Expr['type']> = Extract<Expr, { type: T }>;

export interface ExprCodec<T extends Expr['type']> {
  /** The kernel's expression name (NFTA_EXPR_NAME). */
  readonly name: string;
  encode(w: AttributeWriter, e: ExprOf<T>): void;
  decode(r: AttributeReader): ExprOf<T>;
}
