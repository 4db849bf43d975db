// cmp: compare a register with constant data; the comparison is as long as the data
// (net/netfilter/nft_cmp.c; libnftnl src/expr/cmp.c builds SREG, OP, DATA).
import { ExprCodec, checkRegister, numberedNames } from './codec';
import { CmpOp } from '../model';
import { readData, writeData } from '../data';

const NFTA_CMP_SREG = 1;
const NFTA_CMP_OP = 2;
const NFTA_CMP_DATA = 3;

/** enum nft_cmp_ops. */
export const CMP_OPS = numberedNames<CmpOp>('cmp', 'op', { eq: 0, neq: 1, lt: 2, lte: 3, gt: 4, gte: 5 });

export const cmp: ExprCodec<'cmp'> = {
  name: 'cmp',
  encode(w, e) {
    w.u32be(NFTA_CMP_SREG, checkRegister('cmp', 'sreg', e.sreg));
    w.u32be(NFTA_CMP_OP, CMP_OPS.code(e.op));
    writeData(w, NFTA_CMP_DATA, e.data);
  },
  decode(r) {
    const sreg = r.u32be(NFTA_CMP_SREG);
    const op = CMP_OPS.name(r.u32be(NFTA_CMP_OP));
    const data = readData(r, NFTA_CMP_DATA);
    if (sreg === undefined || !op || !data) return undefined;
    return { type: 'cmp', sreg, op, data };
  },
};
