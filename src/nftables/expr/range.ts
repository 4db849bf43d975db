// range: is a register inside (or outside) an inclusive range
// (net/netfilter/nft_range.c; libnftnl src/expr/range.c builds SREG, OP, FROM_DATA, TO_DATA).
import { ExprCodec, ExprError, checkRegister, numberedNames } from './codec';
import { readData, writeData } from '../data';

const NFTA_RANGE_SREG = 1;
const NFTA_RANGE_OP = 2;
const NFTA_RANGE_FROM_DATA = 3;
const NFTA_RANGE_TO_DATA = 4;

/** enum nft_range_ops: only NFT_RANGE_EQ and NFT_RANGE_NEQ. */
const OPS = numberedNames<'eq' | 'neq'>('range', 'op', { eq: 0, neq: 1 });

export const range: ExprCodec<'range'> = {
  name: 'range',
  encode(w, e) {
    // nft_range_init refuses bounds of different lengths with EINVAL.
    if (e.from.length !== e.to.length) throw new ExprError('range', 'to', e.to, `must be as long as from (${e.from.length} bytes)`);
    w.u32be(NFTA_RANGE_SREG, checkRegister('range', 'sreg', e.sreg));
    w.u32be(NFTA_RANGE_OP, OPS.code(e.op));
    writeData(w, NFTA_RANGE_FROM_DATA, e.from);
    writeData(w, NFTA_RANGE_TO_DATA, e.to);
  },
  decode(r) {
    const sreg = r.u32be(NFTA_RANGE_SREG);
    const op = OPS.name(r.u32be(NFTA_RANGE_OP));
    const from = readData(r, NFTA_RANGE_FROM_DATA);
    const to = readData(r, NFTA_RANGE_TO_DATA);
    if (sreg === undefined || !op || !from || !to) return undefined;
    return { type: 'range', sreg, op, from, to };
  },
};
