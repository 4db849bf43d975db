// payload: load `len` bytes at `offset` from a header base into a register
// (net/netfilter/nft_payload.c; libnftnl src/expr/payload.c builds DREG, BASE, OFFSET, LEN).
// A payload write (SREG and checksum attributes) is not modelled and stays opaque.
import { ExprCodec, checkRegister, checkU32, numberedNames } from './codec';
import { PayloadBase } from '../model';

const NFTA_PAYLOAD_DREG = 1;
const NFTA_PAYLOAD_BASE = 2;
const NFTA_PAYLOAD_OFFSET = 3;
const NFTA_PAYLOAD_LEN = 4;
const NFTA_PAYLOAD_SREG = 5;

/** enum nft_payload_bases. */
const BASES = numberedNames<PayloadBase>('payload', 'base', { ll: 0, network: 1, transport: 2, inner: 3 });

/** The kernel refuses loads longer than a register file (NFT_REG32_COUNT * 4 = 64 bytes). */
const MAX_LEN = 64;

export const payload: ExprCodec<'payload'> = {
  name: 'payload',
  encode(w, e) {
    w.u32be(NFTA_PAYLOAD_DREG, checkRegister('payload', 'dreg', e.dreg));
    w.u32be(NFTA_PAYLOAD_BASE, BASES.code(e.base));
    w.u32be(NFTA_PAYLOAD_OFFSET, checkU32('payload', 'offset', e.offset, 255));
    w.u32be(NFTA_PAYLOAD_LEN, checkU32('payload', 'len', e.len, MAX_LEN));
  },
  decode(r) {
    const dreg = r.u32be(NFTA_PAYLOAD_DREG);
    const base = BASES.name(r.u32be(NFTA_PAYLOAD_BASE));
    const offset = r.u32be(NFTA_PAYLOAD_OFFSET);
    const len = r.u32be(NFTA_PAYLOAD_LEN);
    if (r.has(NFTA_PAYLOAD_SREG) || dreg === undefined || !base || offset === undefined || len === undefined) return undefined;
    return { type: 'payload', base, offset, len, dreg };
  },
};
