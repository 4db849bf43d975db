// Names the attribute an extended ACK points at. With NETLINK_EXT_ACK the kernel reports, next to
// its message, the offset of the offending attribute from the start of the failed request
// (NLMSGERR_ATTR_OFFS, netlink_ack in af_netlink.c). The request is still in our batch buffer, so the
// attribute is found by walking it: its top-level NFTA_* name, and for a list (set elements, rule
// expressions) which entry of the list and which attribute inside it.
import { NLMSG_HDRLEN } from '../netlink';
import { NFTA_CHAIN, NFTA_RULE, NFTA_SET, NFTA_SET_ELEM, NFTA_SET_ELEM_LIST, NFTA_TABLE } from '../nftables';

type AttrNames = Readonly<Record<string, number>>;

/** The attribute set of a request's top level, by object (the NFT_MSG_* name without NEW/DEL). */
const TOP: Record<string, [prefix: string, names: AttrNames]> = {
  TABLE: ['NFTA_TABLE_', NFTA_TABLE],
  CHAIN: ['NFTA_CHAIN_', NFTA_CHAIN],
  RULE: ['NFTA_RULE_', NFTA_RULE],
  SET: ['NFTA_SET_', NFTA_SET],
  SETELEM: ['NFTA_SET_ELEM_LIST_', NFTA_SET_ELEM_LIST],
};

/** A list attribute whose entries are nests of another attribute set. */
const LISTS: Record<string, [entry: string, prefix?: string, names?: AttrNames]> = {
  NFTA_SET_ELEM_LIST_ELEMENTS: ['element', 'NFTA_SET_ELEM_', NFTA_SET_ELEM],
  NFTA_RULE_EXPRESSIONS: ['expression'],
};

/** sizeof(struct nfgenmsg): the nf_tables header between the netlink header and the attributes. */
const NFGENMSG_LEN = 4;
const NLA_TYPE_MASK = 0x3fff;

interface Attr {
  type: number;
  start: number;
  end: number;
}

/**
 * "NFTA_SET_ELEM_KEY of element 3 in NFTA_SET_ELEM_LIST_ELEMENTS" for the attribute at `offset` of
 * the request with sequence `seq` in `batch` (the messages of one batch, back to back), or undefined
 * when the request or attribute cannot be found.
 */
export function describeAttributeAt(batch: Buffer, seq: number, operation: string, offset: number): string | undefined {
  const msg = findMessage(batch, seq);
  if (!msg) return undefined;
  const at = msg.start + offset;
  const top = TOP[operation.replace(/^(NEW|DEL)/, '')];
  if (!top) return undefined;
  const outer = containing(batch, msg.start + NLMSG_HDRLEN + NFGENMSG_LEN, msg.end, at);
  if (!outer) return undefined;
  const name = nameOf(top, outer.attr.type);
  const list = LISTS[name];
  if (!list || outer.attr.start === at) return name;
  const entry = containing(batch, outer.attr.start + 4, outer.attr.end, at);
  if (!entry) return name;
  const where = `${list[0]} ${entry.index + 1} in ${name}`;
  const [, prefix, names] = list;
  if (!prefix || !names || entry.attr.start === at) return where;
  const inner = containing(batch, entry.attr.start + 4, entry.attr.end, at);
  return inner ? `${nameOf([prefix, names], inner.attr.type)} of ${where}` : where;
}

function nameOf([prefix, names]: [string, AttrNames], type: number): string {
  const key = Object.keys(names).find((k) => names[k] === type);
  return key ? prefix + key : `attribute ${type}`;
}

function findMessage(batch: Buffer, seq: number): { start: number; end: number } | undefined {
  for (let pos = 0; pos + NLMSG_HDRLEN <= batch.length; ) {
    const len = batch.readUInt32LE(pos);
    if (len < NLMSG_HDRLEN) return undefined;
    if (batch.readUInt32LE(pos + 8) === seq) return { start: pos, end: Math.min(pos + len, batch.length) };
    pos += (len + 3) & ~3;
  }
  return undefined;
}

/** The attribute among those in [from, to) whose extent holds `at`, and its index among them. */
function containing(buf: Buffer, from: number, to: number, at: number): { attr: Attr; index: number } | undefined {
  for (let pos = from, index = 0; pos + 4 <= to; index++) {
    const len = buf.readUInt16LE(pos);
    if (len < 4) return undefined;
    const attr = { type: buf.readUInt16LE(pos + 2) & NLA_TYPE_MASK, start: pos, end: Math.min(pos + len, to) };
    if (at >= attr.start && at < attr.end) return { attr, index };
    pos += (len + 3) & ~3;
  }
  return undefined;
}
