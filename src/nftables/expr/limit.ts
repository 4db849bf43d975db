// limit: token bucket, `rate` per `unit` seconds with `burst`, in packets or bytes; inverted it
// matches over the rate (net/netfilter/nft_limit.c; libnftnl src/expr/limit.c builds RATE, UNIT,
// BURST, TYPE, FLAGS, and nft sets all five).
import { ExprCodec, ExprError, checkU32, numberedNames } from './codec';

const NFTA_LIMIT_RATE = 1;
const NFTA_LIMIT_UNIT = 2;
const NFTA_LIMIT_BURST = 3;
const NFTA_LIMIT_TYPE = 4;
const NFTA_LIMIT_FLAGS = 5;
const NFT_LIMIT_F_INV = 0x1;

/** enum nft_limit_type. */
const TYPES = numberedNames<'packets' | 'bytes'>('limit', 'limitType', { packets: 0, bytes: 1 });

const U64_MAX = (1n << 64n) - 1n;

export const limit: ExprCodec<'limit'> = {
  name: 'limit',
  encode(w, e) {
    // nft_limit_init: a zero rate or unit is EINVAL.
    if (e.rate <= 0n || e.rate > U64_MAX) throw new ExprError('limit', 'rate', e.rate, 'must be 1..2^64-1');
    if (e.unit <= 0n || e.unit > U64_MAX) throw new ExprError('limit', 'unit', e.unit, 'must be 1..2^64-1 seconds');
    w.u64be(NFTA_LIMIT_RATE, e.rate);
    w.u64be(NFTA_LIMIT_UNIT, e.unit);
    w.u32be(NFTA_LIMIT_BURST, checkU32('limit', 'burst', e.burst));
    w.u32be(NFTA_LIMIT_TYPE, TYPES.code(e.limitType));
    w.u32be(NFTA_LIMIT_FLAGS, e.invert ? NFT_LIMIT_F_INV : 0);
  },
  decode(r) {
    const rate = r.u64be(NFTA_LIMIT_RATE);
    const unit = r.u64be(NFTA_LIMIT_UNIT);
    const limitType = TYPES.name(r.u32be(NFTA_LIMIT_TYPE) ?? 0);
    const flags = r.u32be(NFTA_LIMIT_FLAGS) ?? 0;
    if (rate === undefined || unit === undefined || !limitType || flags & ~NFT_LIMIT_F_INV) return undefined;
    const out = { type: 'limit' as const, rate, unit, burst: r.u32be(NFTA_LIMIT_BURST) ?? 0, limitType };
    return flags & NFT_LIMIT_F_INV ? { ...out, invert: true } : out;
  },
};
