// ct: load a conntrack property into a register, or set one (mark) from a register
// (net/netfilter/nft_ct.c; libnftnl src/expr/ct.c builds KEY, DREG, DIRECTION, SREG). ct state and
// ct mark are host-order u32; DIRECTION is a u8 (IP_CT_DIR_ORIGINAL 0, IP_CT_DIR_REPLY 1).
import { ExprCodec, checkRegister, numberedNames } from './codec';
import { CtKey } from '../model';

const NFTA_CT_DREG = 1;
const NFTA_CT_KEY = 2;
const NFTA_CT_DIRECTION = 3;
const NFTA_CT_SREG = 4;

/** enum nft_ct_keys, the part the model names. Others (src_ip, zone, ...) stay opaque. */
const KEYS = numberedNames<CtKey>('ct', 'key', {
  state: 0, direction: 1, status: 2, mark: 3, l3protocol: 7, protocol: 10, proto_src: 11, proto_dst: 12,
});

const DIRECTIONS = numberedNames<'original' | 'reply'>('ct', 'direction', { original: 0, reply: 1 });

export const ct: ExprCodec<'ct'> = {
  name: 'ct',
  encode(w, e) {
    w.u32be(NFTA_CT_KEY, KEYS.code(e.key));
    if ('dreg' in e) w.u32be(NFTA_CT_DREG, checkRegister('ct', 'dreg', e.dreg));
    if (e.direction !== undefined) w.u8(NFTA_CT_DIRECTION, DIRECTIONS.code(e.direction));
    if ('sreg' in e) w.u32be(NFTA_CT_SREG, checkRegister('ct', 'sreg', e.sreg));
  },
  decode(r) {
    const key = KEYS.name(r.u32be(NFTA_CT_KEY));
    const dreg = r.u32be(NFTA_CT_DREG);
    const sreg = r.u32be(NFTA_CT_SREG);
    const rawDirection = r.u8(NFTA_CT_DIRECTION);
    const direction = DIRECTIONS.name(rawDirection);
    if (!key || (dreg === undefined) === (sreg === undefined)) return undefined;
    if (rawDirection !== undefined && !direction) return undefined;
    const out = dreg !== undefined ? { type: 'ct' as const, key, dreg } : { type: 'ct' as const, key, sreg: sreg! };
    return direction ? { ...out, direction } : out;
  },
};
