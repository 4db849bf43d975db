// The contract every expression file implements: one codec per nf_tables expression name, its
// encoder and decoder side by side. `encode` writes the members of NFTA_EXPR_DATA in the order
// libnftnl writes them (src/expr/<name>.c, *_build), so our bytes equal nft's; `decode` reads them
// back, from our own bytes or from a kernel dump. An encode followed by a decode yields an equal
// expression.
import { AttributeReader, AttributeWriter } from '../../netlink';
import { Expr } from '../model';

export type ExprOf<T extends Expr['type']> = Extract<Expr, { type: T }>;

export interface ExprCodec<T extends Expr['type']> {
  /** The kernel's expression name (NFTA_EXPR_NAME). */
  readonly name: string;
  /** Throws ExprError for a value the kernel would refuse. */
  encode(w: AttributeWriter, e: ExprOf<T>): void;
  /**
   * undefined when the attributes hold a form the model cannot express (a meta key it has no name
   * for, a payload write, a shift bitwise, ...): the registry then keeps the expression opaque, so
   * it still re-encodes byte for byte instead of being misread.
   */
  decode(r: AttributeReader): ExprOf<T> | undefined;
}

/** Thrown when an expression cannot be encoded; names the expression, the field and the value. */
export class ExprError extends Error {
  readonly code = 'NFT_BAD_EXPR';
  constructor(
    readonly expr: string,
    readonly field: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`${expr} expression: ${field} ${describe(value)}: ${reason}`);
  }
}

function describe(value: unknown): string {
  if (Buffer.isBuffer(value)) return `0x${value.toString('hex')} (${value.length} bytes)`;
  return typeof value === 'string' ? `"${value}"` : String(value);
}

/** A two-way table between the model's names and the kernel's numbers for one enum. */
export interface NumberedNames<K extends string> {
  code(name: K): number;
  name(code: number | undefined): K | undefined;
}

export function numberedNames<K extends string>(expr: string, field: string, table: Record<K, number>): NumberedNames<K> {
  const names = new Map<number, K>();
  for (const [name, code] of Object.entries(table) as Array<[K, number]>) names.set(code, name);
  return {
    code(name) {
      const code = table[name];
      if (code === undefined) throw new ExprError(expr, field, name, 'unknown name');
      return code;
    },
    name: (code) => (code === undefined ? undefined : names.get(code)),
  };
}

/** NFT_REG_VERDICT 0, NFT_REG_1..4, NFT_REG32_00..15 = 8..23 (nf_tables.h enum nft_registers). */
export function checkRegister(expr: string, field: string, reg: number): number {
  const ok = Number.isInteger(reg) && ((reg >= 0 && reg <= 4) || (reg >= 8 && reg <= 23));
  if (!ok) throw new ExprError(expr, field, reg, 'not an nf_tables register (0..4, 8..23)');
  return reg;
}

/** A u32 field: refuses non-integers and values that would wrap. */
export function checkU32(expr: string, field: string, value: number, max = 0xffffffff): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new ExprError(expr, field, value, `must be an integer 0..${max}`);
  return value;
}
