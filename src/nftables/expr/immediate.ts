// immediate: load constant data into a register, or set the verdict (dreg 0)
// (net/netfilter/nft_immediate.c; libnftnl src/expr/immediate.c builds DREG, DATA).
// A verdict the model cannot express (a queue number, a binding chain id) stays opaque.
import { ExprCodec, ExprError, checkRegister } from './codec';
import { readData, writeData } from '../data';
import { VerdictError, readVerdict, writeVerdict } from '../verdict';
import { Verdict } from '../model';

const NFTA_IMMEDIATE_DREG = 1;
const NFTA_IMMEDIATE_DATA = 2;
const NFT_REG_VERDICT = 0;

function tryReadVerdict(r: Parameters<typeof readVerdict>[0]): Verdict | undefined {
  try {
    return readVerdict(r, NFTA_IMMEDIATE_DATA);
  } catch (err) {
    if (err instanceof VerdictError) return undefined;
    throw err;
  }
}

export const immediate: ExprCodec<'immediate'> = {
  name: 'immediate',
  encode(w, e) {
    if ('verdict' in e) {
      // The type says 0, but a caller's object may not have come through the type checker.
      if ((e.dreg as number) !== NFT_REG_VERDICT) throw new ExprError('immediate', 'dreg', e.dreg, 'a verdict goes to register 0');
      w.u32be(NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
      writeVerdict(w, NFTA_IMMEDIATE_DATA, e.verdict);
      return;
    }
    if (e.dreg === NFT_REG_VERDICT) throw new ExprError('immediate', 'dreg', e.dreg, 'register 0 takes a verdict, not data');
    w.u32be(NFTA_IMMEDIATE_DREG, checkRegister('immediate', 'dreg', e.dreg));
    writeData(w, NFTA_IMMEDIATE_DATA, e.data);
  },
  decode(r) {
    const dreg = r.u32be(NFTA_IMMEDIATE_DREG);
    if (dreg === NFT_REG_VERDICT) {
      const verdict = tryReadVerdict(r);
      return verdict ? { type: 'immediate', dreg: NFT_REG_VERDICT, verdict } : undefined;
    }
    const data = readData(r, NFTA_IMMEDIATE_DATA);
    return dreg !== undefined && data ? { type: 'immediate', dreg, data } : undefined;
  },
};
