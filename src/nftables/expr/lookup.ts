// lookup: is a register's value in a set; for a map, also load the element's data into dreg, or
// with dreg 0 take the verdict of a verdict map (net/netfilter/nft_lookup.c; libnftnl
// src/expr/lookup.c builds SREG, DREG, SET, SET_ID, FLAGS). nft sends FLAGS only for `!= @set`;
// the kernel dumps it always, so a decoded `invert` is present only when true.
import { ExprCodec, ExprError, checkRegister, checkU32 } from './codec';

const NFTA_LOOKUP_SET = 1;
const NFTA_LOOKUP_SREG = 2;
const NFTA_LOOKUP_DREG = 3;
const NFTA_LOOKUP_SET_ID = 4;
const NFTA_LOOKUP_FLAGS = 5;
const NFT_LOOKUP_F_INV = 0x1;

/** NFT_SET_MAXNAMELEN is NFT_NAME_MAXLEN (256) including the NUL. */
const MAX_NAME = 255;

export const lookup: ExprCodec<'lookup'> = {
  name: 'lookup',
  encode(w, e) {
    if (!e.set || Buffer.byteLength(e.set) > MAX_NAME) throw new ExprError('lookup', 'set', e.set, `must be 1..${MAX_NAME} bytes`);
    w.u32be(NFTA_LOOKUP_SREG, checkRegister('lookup', 'sreg', e.sreg));
    if (e.dreg !== undefined) w.u32be(NFTA_LOOKUP_DREG, checkRegister('lookup', 'dreg', e.dreg));
    w.string(NFTA_LOOKUP_SET, e.set);
    if (e.setId !== undefined) w.u32be(NFTA_LOOKUP_SET_ID, checkU32('lookup', 'setId', e.setId));
    if (e.invert) w.u32be(NFTA_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
  },
  decode(r) {
    const set = r.string(NFTA_LOOKUP_SET);
    const sreg = r.u32be(NFTA_LOOKUP_SREG);
    const flags = r.u32be(NFTA_LOOKUP_FLAGS) ?? 0;
    if (set === undefined || sreg === undefined || flags & ~NFT_LOOKUP_F_INV) return undefined;
    const out: { type: 'lookup'; set: string; sreg: number; dreg?: number; setId?: number; invert?: boolean } = { type: 'lookup', set, sreg };
    const dreg = r.u32be(NFTA_LOOKUP_DREG);
    const setId = r.u32be(NFTA_LOOKUP_SET_ID);
    if (dreg !== undefined) out.dreg = dreg;
    if (setId !== undefined) out.setId = setId;
    if (flags & NFT_LOOKUP_F_INV) out.invert = true;
    return out;
  },
};
