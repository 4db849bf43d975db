// bitwise: dreg = (sreg & mask) ^ xor over `len` bytes, the op nft uses for prefixes and flag
// tests (net/netfilter/nft_bitwise.c, NFT_BITWISE_MASK_XOR; libnftnl src/expr/bitwise.c builds
// SREG, DREG, LEN, MASK, XOR). nft leaves NFTA_BITWISE_OP out for mask-and-xor, the kernel's
// default. Shifts and the register-operand ops (OP other than 0, DATA, SREG2) stay opaque.
import { ExprCodec, ExprError, checkRegister, checkU32 } from './codec';
import { readData, writeData } from '../data';

const NFTA_BITWISE_SREG = 1;
const NFTA_BITWISE_DREG = 2;
const NFTA_BITWISE_LEN = 3;
const NFTA_BITWISE_MASK = 4;
const NFTA_BITWISE_XOR = 5;
const NFTA_BITWISE_OP = 6;
const NFTA_BITWISE_DATA = 7;
const NFTA_BITWISE_SREG2 = 8;
const NFT_BITWISE_MASK_XOR = 0;

export const bitwise: ExprCodec<'bitwise'> = {
  name: 'bitwise',
  encode(w, e) {
    // nft_bitwise_init_mask_xor refuses mask or xor data whose length is not len.
    for (const [field, value] of [['mask', e.mask], ['xor', e.xor]] as const) {
      if (value.length !== e.len) throw new ExprError('bitwise', field, value, `must be len (${e.len}) bytes long`);
    }
    w.u32be(NFTA_BITWISE_SREG, checkRegister('bitwise', 'sreg', e.sreg));
    w.u32be(NFTA_BITWISE_DREG, checkRegister('bitwise', 'dreg', e.dreg));
    w.u32be(NFTA_BITWISE_LEN, checkU32('bitwise', 'len', e.len, 64));
    writeData(w, NFTA_BITWISE_MASK, e.mask);
    writeData(w, NFTA_BITWISE_XOR, e.xor);
  },
  decode(r) {
    const op = r.u32be(NFTA_BITWISE_OP) ?? NFT_BITWISE_MASK_XOR;
    if (op !== NFT_BITWISE_MASK_XOR || r.has(NFTA_BITWISE_DATA) || r.has(NFTA_BITWISE_SREG2)) return undefined;
    const sreg = r.u32be(NFTA_BITWISE_SREG);
    const dreg = r.u32be(NFTA_BITWISE_DREG);
    const len = r.u32be(NFTA_BITWISE_LEN);
    const mask = readData(r, NFTA_BITWISE_MASK);
    const xor = readData(r, NFTA_BITWISE_XOR);
    if (sreg === undefined || dreg === undefined || len === undefined || !mask || !xor) return undefined;
    return { type: 'bitwise', sreg, dreg, len, mask, xor };
  },
};
