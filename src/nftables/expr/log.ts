// log: to syslog (prefix, level, flags) or to an nflog group (prefix, group, snaplen, qthreshold)
// (net/netfilter/nft_log.c; libnftnl src/expr/log.c builds PREFIX, GROUP, SNAPLEN, QTHRESHOLD,
// LEVEL, FLAGS). nft_log_init refuses LEVEL or FLAGS together with GROUP; encode refuses them too,
// and snaplen/qthreshold without a group (the kernel would silently ignore them).
import { ExprCodec, ExprError, checkU32 } from './codec';
import { ExprOf } from './codec';

const NFTA_LOG_GROUP = 1;
const NFTA_LOG_PREFIX = 2;
const NFTA_LOG_SNAPLEN = 3;
const NFTA_LOG_QTHRESHOLD = 4;
const NFTA_LOG_LEVEL = 5;
const NFTA_LOG_FLAGS = 6;

/** NF_LOG_PREFIXLEN is 128 including the NUL. */
const MAX_PREFIX = 127;
/** NFT_LOGLEVEL_AUDIT, the highest level (0..7 are syslog levels). */
const MAX_LEVEL = 8;
/** NF_LOG_MASK: TCPSEQ 0x01 | TCPOPT 0x02 | IPOPT 0x04 | UID 0x08 | MACDECODE 0x20 (NF_LOG_NFLOG 0x10 is internal). */
const NF_LOG_MASK = 0x2f;

function check(e: ExprOf<'log'>): void {
  if (e.prefix !== undefined && Buffer.byteLength(e.prefix) > MAX_PREFIX) {
    throw new ExprError('log', 'prefix', e.prefix, `longer than ${MAX_PREFIX} bytes`);
  }
  if (e.group !== undefined) {
    checkU32('log', 'group', e.group, 0xffff);
    if (e.level !== undefined) throw new ExprError('log', 'level', e.level, 'cannot be combined with group (nflog)');
    if (e.flags !== undefined) throw new ExprError('log', 'flags', e.flags, 'cannot be combined with group (nflog)');
  } else {
    if (e.snaplen !== undefined) throw new ExprError('log', 'snaplen', e.snaplen, 'needs a group');
    if (e.qthreshold !== undefined) throw new ExprError('log', 'qthreshold', e.qthreshold, 'needs a group');
  }
  if (e.level !== undefined) checkU32('log', 'level', e.level, MAX_LEVEL);
  if (e.flags !== undefined && (checkU32('log', 'flags', e.flags) & ~NF_LOG_MASK)) {
    throw new ExprError('log', 'flags', e.flags, `unknown bits (known: 0x${NF_LOG_MASK.toString(16)})`);
  }
  if (e.snaplen !== undefined) checkU32('log', 'snaplen', e.snaplen);
  if (e.qthreshold !== undefined) checkU32('log', 'qthreshold', e.qthreshold, 0xffff);
}

export const log: ExprCodec<'log'> = {
  name: 'log',
  encode(w, e) {
    check(e);
    if (e.prefix !== undefined) w.string(NFTA_LOG_PREFIX, e.prefix);
    if (e.group !== undefined) w.u16be(NFTA_LOG_GROUP, e.group);
    if (e.snaplen !== undefined) w.u32be(NFTA_LOG_SNAPLEN, e.snaplen);
    if (e.qthreshold !== undefined) w.u16be(NFTA_LOG_QTHRESHOLD, e.qthreshold);
    if (e.level !== undefined) w.u32be(NFTA_LOG_LEVEL, e.level);
    if (e.flags !== undefined) w.u32be(NFTA_LOG_FLAGS, e.flags);
  },
  decode(r) {
    const out: ExprOf<'log'> = { type: 'log' };
    const prefix = r.string(NFTA_LOG_PREFIX);
    const group = r.u16be(NFTA_LOG_GROUP);
    const snaplen = r.u32be(NFTA_LOG_SNAPLEN);
    const qthreshold = r.u16be(NFTA_LOG_QTHRESHOLD);
    const level = r.u32be(NFTA_LOG_LEVEL);
    const flags = r.u32be(NFTA_LOG_FLAGS);
    if (prefix !== undefined) out.prefix = prefix;
    if (group !== undefined) out.group = group;
    if (snaplen !== undefined) out.snaplen = snaplen;
    if (qthreshold !== undefined) out.qthreshold = qthreshold;
    if (level !== undefined) out.level = level;
    if (flags !== undefined) out.flags = flags;
    return out;
  },
};
