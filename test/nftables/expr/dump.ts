// The smallest raw rule dump, for kernel tests of the expression decoder: one GETRULE request with
// NLM_F_DUMP for a table and chain (kernel nf_tables_getrule / nf_tables_dump_rules) and, for each
// NEWRULE in the reply, the raw NFTA_RULE_EXPRESSIONS payload. The real dump client lives in
// src/kernel; this stays independent of it on purpose.
import { AttributeReader, AttributeWriter, NLMSG_ERROR, NLM_F_DUMP, NLM_F_REQUEST, NetlinkSocket, beginMessage, endMessage, parseErrorBody } from '../../../src/netlink';

const NETLINK_NETFILTER = 12;
const NFT_MSG_GETRULE = 7;
const NFT_MSG_NEWRULE = 6;
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
