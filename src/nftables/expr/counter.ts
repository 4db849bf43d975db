// counter: packet and byte counts (net/netfilter/nft_counter.c). nft sends an empty data nest for
// a new counter; the kernel dumps both values as be64 with a PAD attribute for alignment.
import { ExprCodec } from './codec';

const NFTA_COUNTER_BYTES = 1;
const NFTA_COUNTER_PACKETS = 2;

export const counter: ExprCodec<'counter'> = {
  name: 'counter',
  encode(w, e) {
    // libnftnl omits zero values, so "counter" alone encodes as an empty nest (nftnl expr/counter.c).
    if (e.bytes) w.u64be(NFTA_COUNTER_BYTES, e.bytes);
    if (e.packets) w.u64be(NFTA_COUNTER_PACKETS, e.packets);
  },
  decode(r) {
    return { type: 'counter', bytes: r.u64be(NFTA_COUNTER_BYTES) ?? 0n, packets: r.u64be(NFTA_COUNTER_PACKETS) ?? 0n };
  },
};
