// meta: load a packet/skb property into a register, or set one from a register
// (net/netfilter/nft_meta.c; libnftnl src/expr/meta.c builds KEY, then DREG or SREG).
// Sizes the kernel loads: iifname/oifname 16 bytes (NUL padded), iif/oif/mark host-order u32,
// nfproto/l4proto/nftrace 1 byte.
import { ExprCodec, checkRegister, numberedNames } from './codec';
import { MetaKey } from '../model';

const NFTA_META_DREG = 1;
const NFTA_META_KEY = 2;
const NFTA_META_SREG = 3;

/** enum nft_meta_keys (nf_tables.h). */
const KEYS = numberedNames<MetaKey>('meta', 'key', {
  len: 0, protocol: 1, priority: 2, mark: 3, iif: 4, oif: 5, iifname: 6, oifname: 7, iiftype: 8,
  oiftype: 9, skuid: 10, skgid: 11, nftrace: 12, rtclassid: 13, secmark: 14, nfproto: 15, l4proto: 16,
  bri_iifname: 17, bri_oifname: 18, pkttype: 19, cpu: 20, iifgroup: 21, oifgroup: 22, cgroup: 23,
});

export const meta: ExprCodec<'meta'> = {
  name: 'meta',
  encode(w, e) {
    w.u32be(NFTA_META_KEY, KEYS.code(e.key));
    if ('dreg' in e) w.u32be(NFTA_META_DREG, checkRegister('meta', 'dreg', e.dreg));
    else w.u32be(NFTA_META_SREG, checkRegister('meta', 'sreg', e.sreg));
  },
  decode(r) {
    const key = KEYS.name(r.u32be(NFTA_META_KEY));
    const dreg = r.u32be(NFTA_META_DREG);
    const sreg = r.u32be(NFTA_META_SREG);
    if (!key || (dreg === undefined) === (sreg === undefined)) return undefined;
    return dreg !== undefined ? { type: 'meta', key, dreg } : { type: 'meta', key, sreg: sreg! };
  },
};
