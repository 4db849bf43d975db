// Verdicts as nf_tables data (include/uapi/linux/netfilter/nf_tables.h, enum nft_verdict_attributes
// and enum nft_verdicts; include/uapi/linux/netfilter.h NF_DROP..NF_QUEUE). A verdict is a nest
// {NFTA_DATA_VERDICT {NFTA_VERDICT_CODE be32 signed, NFTA_VERDICT_CHAIN string?}}; jump and goto
// name their target chain (kernel nft_verdict_init / nft_verdict_dump in nf_tables_api.c, libnftnl
// nftnl_data_reg_verdict_build).
import { AttributeReader, AttributeWriter } from '../netlink';
import { Verdict, VerdictKind } from './model';
import { NFTA_DATA_VERDICT } from './data';

const NFTA_VERDICT_CODE = 1;
const NFTA_VERDICT_CHAIN = 2;
const NFTA_VERDICT_CHAIN_ID = 3;

const CODES: Record<VerdictKind, number> = {
  drop: 0, // NF_DROP
  accept: 1, // NF_ACCEPT
  queue: 3, // NF_QUEUE
  continue: -1, // NFT_CONTINUE
  break: -2, // NFT_BREAK
  jump: -3, // NFT_JUMP
  goto: -4, // NFT_GOTO
  return: -5, // NFT_RETURN
};

const KINDS = new Map<number, VerdictKind>(Object.entries(CODES).map(([k, c]) => [c, k as VerdictKind]));

/** Thrown for a verdict that cannot be encoded or a code that is not a verdict. */
export class VerdictError extends Error {
  readonly code = 'NFT_BAD_VERDICT';
}

export function verdictCode(kind: VerdictKind): number {
  const code = CODES[kind];
  if (code === undefined) throw new VerdictError(`unknown verdict kind "${String(kind)}"`);
  return code;
}

/** The kernel accepts exactly these codes (nft_verdict_init refuses NF_QUEUE/NF_DROP parameters). */
export function verdictKind(code: number): VerdictKind {
  const kind = KINDS.get(code);
  if (!kind) throw new VerdictError(`unknown verdict code ${code}`);
  return kind;
}

/** Writes attribute `type` as a nest {NFTA_DATA_VERDICT {CODE, CHAIN?}}. */
export function writeVerdict(w: AttributeWriter, type: number, v: Verdict): void {
  const jumps = v.kind === 'jump' || v.kind === 'goto';
  if (jumps && !v.chain) throw new VerdictError(`verdict ${v.kind} needs a target chain`);
  if (!jumps && v.chain !== undefined) throw new VerdictError(`verdict ${v.kind} takes no chain (got "${v.chain}")`);
  const code = verdictCode(v.kind);
  w.nest(type, () =>
    w.nest(NFTA_DATA_VERDICT, () => {
      w.i32be(NFTA_VERDICT_CODE, code);
      if (v.chain !== undefined) w.string(NFTA_VERDICT_CHAIN, v.chain);
    }),
  );
}

/** Reads the verdict inside attribute `type`; undefined when absent (or a value). */
export function readVerdict(r: AttributeReader, type: number): Verdict | undefined {
  const verdict = r.nest(type)?.nest(NFTA_DATA_VERDICT);
  if (!verdict) return undefined;
  const code = verdict.i32be(NFTA_VERDICT_CODE);
  if (code === undefined) throw new VerdictError('verdict without NFTA_VERDICT_CODE');
  // A binding chain (NFTA_VERDICT_CHAIN_ID, same-batch anonymous chain) has no place in Verdict.
  if (verdict.has(NFTA_VERDICT_CHAIN_ID)) throw new VerdictError('verdict with a chain id (binding chain) is not modelled');
  const kind = verdictKind(code);
  const chain = verdict.string(NFTA_VERDICT_CHAIN);
  return chain !== undefined ? { kind, chain } : { kind };
}
