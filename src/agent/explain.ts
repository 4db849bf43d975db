// `flockguard explain`: the verdict the table the kernel holds gives one described packet, and the
// rules that matched on the way (src/troubleshoot models nf_tables' packet path).
import { ExplainRequest, ExplainResult, ExplainStep, ServiceError } from '../api/service';
import { Ruleset } from '../nftables/model';
import { evaluate, PathStep } from '../troubleshoot/evaluate';
import { buildPacket } from '../troubleshoot/packet';

const POLICY_COMMENT = /policy=(\S+) rule=(\d+) action=(\S+)/;

function step(s: PathStep): ExplainStep {
  const m = POLICY_COMMENT.exec(s.comment ?? '');
  return {
    chain: s.chain,
    rule: `${s.chain}[${s.index}]`,
    comment: s.comment,
    policy: m?.[1],
    ruleIndex: m ? Number(m[2]) : undefined,
    verdict: s.target ? `${s.verdict} ${s.target}` : s.verdict,
  };
}

export function explainPacket(table: Ruleset | undefined, req: ExplainRequest): ExplainResult {
  if (!table) throw new ServiceError('FAILED_PRECONDITION', 'explain: no policy is installed yet', { status: 'FAILED_PRECONDITION' });
  let packet;
  try {
    packet = buildPacket({ iifname: req.iif, src: req.src, dst: req.dst, proto: req.protocol, sport: req.sport, dport: req.dport, icmpType: req.icmpType });
  } catch (err) {
    throw new ServiceError((err as { code?: string }).code ?? 'EXPLAIN_BAD_PACKET', (err as Error).message, { status: 'INVALID_ARGUMENT' });
  }
  const ev = evaluate(table, packet);
  const path = ev.path.map(step);
  const by = ev.decidedBy ? step(ev.decidedBy) : undefined;
  const what = `${req.protocol} ${req.src}${req.sport ? `:${req.sport}` : ''} -> ${req.dst}${req.dport ? `:${req.dport}` : ''} on ${req.iif}`;
  const why = !by ? 'by the base chain policy' : by.policy ? `by policy ${by.policy} rule ${by.ruleIndex}` : `by ${by.comment ?? by.rule}`;
  return { verdict: ev.verdict, path, summary: `${what}: ${ev.verdict} ${why}` };
}
