// The smallest raw nf_tables I/O for kernel tests of the expression codec, independent of the real
// client in src/kernel on purpose: a GETRULE dump of one chain returning each rule's raw
// NFTA_RULE_EXPRESSIONS (kernel nf_tables_dump_rules), and a one-rule batch appending a rule
// (BATCH_BEGIN, NEWRULE with NLM_F_ACK, BATCH_END; kernel nfnetlink_rcv_batch, nf_tables_newrule).
import {
  AttributeReader, AttributeWriter, NLMSG_ERROR, NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_DUMP, NLM_F_REQUEST,
  NetlinkSocket, beginMessage, endMessage, parseErrorBody,
} from '../../../src/netlink';
import { writeExprs } from '../../../src/nftables/expr';
import { Expr } from '../../../src/nftables/model';

const NETLINK_NETFILTER = 12;
const NFT_MSG_GETRULE = 7;
const NFT_MSG_NEWRULE = 6;
const NFNL_MSG_BATCH_BEGIN = 16;
const NFNL_MSG_BATCH_END = 17;
const NFNL_SUBSYS_NFTABLES = 10;
const NFTA_RULE_TABLE = 1;
const NFTA_RULE_CHAIN = 2;
const NFTA_RULE_EXPRESSIONS = 4;
const NFPROTO = { inet: 1, ip: 2, ip6: 10 } as const;

/** The NFTA_RULE_EXPRESSIONS payload of each rule of `table`/`chain`, in chain order. */
export async function dumpRuleExpressions(family: keyof typeof NFPROTO, table: string, chain: string): Promise<Buffer[]> {
  const sock = new NetlinkSocket(NETLINK_NETFILTER, { timeoutMs: 10_000 });
  try {
    const w = new AttributeWriter();
    const seq = sock.nextSeq();
    const start = beginMessage(w, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETRULE, NLM_F_REQUEST | NLM_F_DUMP, seq);
    w.put(Buffer.from([NFPROTO[family], 0, 0, 0])); // nfgenmsg: family, version 0, res_id 0
    w.string(NFTA_RULE_TABLE, table).string(NFTA_RULE_CHAIN, chain);
    endMessage(w, start);
    const replies = await sock.exchange([w.toBuffer()], seq);
    const out: Buffer[] = [];
    for (const m of replies) {
      if (m.type === NLMSG_ERROR) {
        const err = parseErrorBody(m);
        if (err.errno) throw new Error(`GETRULE ${family} ${table} ${chain}: errno ${err.errno}`);
      }
      if (m.type !== ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE)) continue;
      const attrs = new AttributeReader(m.payload, 4);
      out.push(Buffer.from(attrs.bytes(NFTA_RULE_EXPRESSIONS) ?? Buffer.alloc(0)));
    }
    return out;
  } finally {
    sock.close();
  }
}

/** Appends a rule with `exprs` to `table`/`chain`; throws with the errno if the kernel refuses it. */
export async function appendRule(family: keyof typeof NFPROTO, table: string, chain: string, exprs: readonly Expr[]): Promise<void> {
  const sock = new NetlinkSocket(NETLINK_NETFILTER, { timeoutMs: 10_000 });
  try {
    const w = new AttributeWriter();
    // BATCH_BEGIN/END: family AF_UNSPEC, res_id = htons(NFNL_SUBSYS_NFTABLES).
    const batchHeader = Buffer.from([0, 0, 0, NFNL_SUBSYS_NFTABLES]);
    const begin = beginMessage(w, NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, sock.nextSeq());
    w.put(batchHeader);
    endMessage(w, begin);
    const seq = sock.nextSeq();
    const rule = beginMessage(w, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, seq);
    w.put(Buffer.from([NFPROTO[family], 0, 0, 0]));
    w.string(NFTA_RULE_TABLE, table).string(NFTA_RULE_CHAIN, chain);
    w.nest(NFTA_RULE_EXPRESSIONS, () => writeExprs(w, exprs));
    endMessage(w, rule);
    const end = beginMessage(w, NFNL_MSG_BATCH_END, NLM_F_REQUEST, sock.nextSeq());
    w.put(batchHeader);
    endMessage(w, end);
    const replies = await sock.exchange([w.toBuffer()], seq);
    const reply = replies.find((m) => m.type === NLMSG_ERROR && m.seq === seq);
    const errno = reply ? parseErrorBody(reply).errno : -1;
    if (errno !== 0) throw new Error(`NEWRULE ${family} ${table} ${chain}: errno ${errno}`);
  } finally {
    sock.close();
  }
}
