// Chains: NEWCHAIN / DELCHAIN requests and dumped chains (nf_tables_api.c nf_tables_newchain,
// nf_tables_fill_chain_info). A base chain carries TYPE, POLICY and a HOOK nest whose PRIORITY is a
// signed be32 (-150 is ff ff ff 6a). Attribute order follows nft 1.0.6 (mnl.c mnl_nft_chain_add), so
// that our bytes equal nft's.
import { AttributeWriter, endMessage } from '../netlink';
import { NFTA_CHAIN, NFTA_HOOK, NftMsg, familyNumber, hookName, hookNumber } from './constants';
import { NftCodecError, NftMessage, beginNftMessage, requireFamily, requireString } from './message';
import { BaseChainSpec, Chain, ChainType } from './model';
import { ObjectOp } from './table';
import { UDATA_COMMENT, commentValue, decodeUdata, encodeUdata, readUdataString } from './userdata';

/** NF_DROP and NF_ACCEPT, the two values a chain policy may take. */
const POLICY_DROP = 0;
const POLICY_ACCEPT = 1;

export function describeChain(c: Pick<Chain, 'family' | 'table' | 'name'>): string {
  return `${c.family} ${c.table} chain ${c.name}`;
}

/** NEWCHAIN carries the base-chain spec and comment; DELCHAIN only table and name. */
export function encodeChain(w: AttributeWriter, c: Chain, op: ObjectOp): void {
  const start = beginNftMessage(w, { ...op, family: familyNumber(c.family) });
  w.string(NFTA_CHAIN.TABLE, c.table);
  w.string(NFTA_CHAIN.NAME, c.name);
  if (op.msg === NftMsg.NEWCHAIN) {
    if (c.base) writeBase(w, c, c.base);
    if (c.comment !== undefined) {
      w.bytes(NFTA_CHAIN.USERDATA, encodeUdata([[UDATA_COMMENT, commentValue(c.comment, describeChain(c))]]));
    }
  }
  endMessage(w, start);
}

function writeBase(w: AttributeWriter, c: Chain, b: BaseChainSpec): void {
  w.string(NFTA_CHAIN.TYPE, b.type);
  w.u32be(NFTA_CHAIN.POLICY, b.policy === 'accept' ? POLICY_ACCEPT : POLICY_DROP);
  w.nest(NFTA_CHAIN.HOOK, () => {
    w.u32be(NFTA_HOOK.HOOKNUM, hookNumber(c.family, b.hook));
    w.i32be(NFTA_HOOK.PRIORITY, b.priority);
    if (b.device !== undefined) w.string(NFTA_HOOK.DEV, b.device);
  });
}

export function decodeChain(m: NftMessage): Chain {
  const r = m.attrs;
  const c: Chain = {
    family: requireFamily(m),
    table: requireString(r, NFTA_CHAIN.TABLE, 'chain table'),
    name: requireString(r, NFTA_CHAIN.NAME, 'chain name'),
  };
  const hook = r.nest(NFTA_CHAIN.HOOK);
  if (hook) {
    const hooknum = hook.u32be(NFTA_HOOK.HOOKNUM);
    const priority = hook.i32be(NFTA_HOOK.PRIORITY);
    if (hooknum === undefined || priority === undefined) throw new NftCodecError(`${describeChain(c)}: incomplete hook`);
    const base: BaseChainSpec = {
      type: (r.string(NFTA_CHAIN.TYPE) ?? 'filter') as ChainType,
      hook: hookName(c.family, hooknum),
      priority,
      policy: r.u32be(NFTA_CHAIN.POLICY) === POLICY_DROP ? 'drop' : 'accept',
    };
    const dev = hook.string(NFTA_HOOK.DEV);
    if (dev !== undefined) base.device = dev;
    c.base = base;
  }
  const ud = r.bytes(NFTA_CHAIN.USERDATA);
  const comment = ud && readUdataString(decodeUdata(ud).get(UDATA_COMMENT));
  if (comment !== undefined) c.comment = comment;
  const handle = r.u64be(NFTA_CHAIN.HANDLE);
  if (handle !== undefined) c.handle = handle;
  return c;
}
