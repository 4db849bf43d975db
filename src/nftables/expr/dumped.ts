// The form in which the kernel hands an expression back: what decoding a dump of a rule yields when
// we (or nft) sent `e`. The kernel's ->dump functions restate some defaults and drop some inputs,
// so comparing a desired rule with a dumped one needs this, or every reconcile would see changes.
// Each rule cites the dump function it follows; test/nftables/expr/kernel.test.ts checks them all
// against real dumps.
import { Expr } from '../model';
import { ExprOf } from './codec';

/** NFT_LOGLEVEL_WARNING: nft_log_init's level when none is given. */
const DEFAULT_LOG_LEVEL = 4;
/** NFT_LIMIT_PKT_BURST_DEFAULT: nft_limit_init's burst for a packet limit given burst 0. */
const DEFAULT_PKT_BURST = 5;

function dumpedLog(e: ExprOf<'log'>): ExprOf<'log'> {
  const out = { ...e };
  if (e.group === undefined) {
    // nft_log_dump, NF_LOG_TYPE_LOG: LEVEL always, FLAGS only when non-zero.
    out.level = e.level ?? DEFAULT_LOG_LEVEL;
    if (!e.flags) delete out.flags;
  } else if (!e.qthreshold) {
    // NF_LOG_TYPE_ULOG: GROUP, SNAPLEN when it was given, QTHRESHOLD only when non-zero.
    delete out.qthreshold;
  }
  return out;
}

/** nft_ct_get_dump puts DIRECTION only for keys that depend on it; nft_ct_set_dump never for ours. */
function dumpedCt(e: ExprOf<'ct'>): ExprOf<'ct'> {
  const directional = 'dreg' in e && (e.key === 'proto_src' || e.key === 'proto_dst');
  if (directional || e.direction === undefined) return e;
  const out = { ...e };
  delete out.direction;
  return out;
}

/**
 * The expression as a kernel dump returns it. Lookups lose their set id (transaction-local, never
 * dumped); an anonymous set's name is the kernel's (`__set%d` becomes `__set0`, ...), which only
 * the dump knows, so it is left as is.
 */
export function dumpedForm(e: Expr): Expr {
  switch (e.type) {
    case 'lookup': {
      if (e.setId === undefined) return e;
      const out = { ...e };
      delete out.setId;
      return out;
    }
    case 'log':
      return dumpedLog(e);
    case 'ct':
      return dumpedCt(e);
    case 'limit':
      return e.limitType === 'packets' && e.burst === 0 ? { ...e, burst: DEFAULT_PKT_BURST } : e;
    default:
      return e;
  }
}
