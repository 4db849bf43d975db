// `flockguard explain`: what the table the kernel holds does with one described packet, told the
// way a user asks it: which conntrack rule, failsafe, tier, policy and rule decided, or that no
// pre-DNAT policy did and the packet goes on to kube-proxy's DNAT. The verdict comes from the model
// of nft_do_chain (evaluate.ts) on the original destination, as our chain sees it before DNAT.
import { ExplainRequest, ExplainResult, ExplainStep, ServiceError } from '../api/service';
import { formatExprs } from '../nftables/format';
import { Ruleset } from '../nftables/model';
import { RuleRole, describeRole, ruleRole } from './comments';
import { Evaluation, PathStep, evaluate } from './evaluate';
import { Packet, PacketSpec, buildPacket } from './packet';

export type DecisionKind = 'conntrack' | 'failsafe' | 'policy' | 'builtin' | 'no-policy' | 'other';

export interface Decision {
  kind: DecisionKind;
  verdict: 'accept' | 'drop';
  policy?: string;
  ruleIndex?: number;
  action?: string;
  tier?: string;
  hostEndpoint?: string;
  failsafe?: string;
}

export interface Explanation extends ExplainResult {
  decision: Decision;
  /** The ct state explain assumed (conntrack's view of a flow's first packet). */
  ctState: Packet['ctState'];
}

export const NO_POLICY_DECIDED = "no pre-DNAT policy decided: the packet continues to kube-proxy's DNAT and normal processing";
const ACCEPT_GOES_ON = "pre-DNAT accept ends only flockguard's chain: the packet continues to kube-proxy's DNAT and normal processing";

/** Explains `req` against `table` (the ruleset the kernel holds); a bad packet description fails with EXPLAIN_BAD_PACKET. */
export function explainPacket(table: Ruleset | undefined, req: ExplainRequest): Explanation {
  if (!table) throw new ServiceError('FAILED_PRECONDITION', 'explain: no policy is installed yet', { status: 'FAILED_PRECONDITION' });
  const packet = packetOf(req);
  let ev: Evaluation;
  try {
    ev = evaluate(table, packet);
  } catch (err) {
    throw new ServiceError((err as { code?: string }).code ?? 'EXPLAIN_UNSUPPORTED', `explain: ${(err as Error).message}`, { status: 'FAILED_PRECONDITION' });
  }
  const path = ev.path.map((s) => explainStep(table, s));
  const decision = decide(ev);
  const what = describePacket(req, packet);
  return { verdict: ev.verdict, path, summary: `${what}: ${narrate(decision)}`, decision, ctState: packet.ctState };
}

function packetOf(req: ExplainRequest): Packet {
  const spec: PacketSpec = { iifname: req.iif, src: req.src, dst: req.dst, proto: req.protocol, sport: req.sport, dport: req.dport, icmpType: req.icmpType };
  try {
    return buildPacket(spec);
  } catch (err) {
    throw new ServiceError((err as { code?: string }).code ?? 'EXPLAIN_BAD_PACKET', (err as Error).message, { status: 'INVALID_ARGUMENT' });
  }
}

function explainStep(table: Ruleset, s: PathStep): ExplainStep {
  const role = ruleRole(s.comment);
  const rule = table.rules.get(s.chain)?.[s.index];
  // Counters of a compiled table are all zero and say nothing here: leave them out.
  const text = rule ? formatExprs(rule.exprs.filter((e) => e.type !== 'counter'), { family: table.table.family }) : `${s.chain}[${s.index}]`;
  return {
    chain: s.chain,
    rule: text,
    comment: s.comment,
    policy: role.kind === 'policy' ? role.policy : undefined,
    ruleIndex: role.kind === 'policy' ? role.ruleIndex : undefined,
    verdict: s.target ? `${s.verdict} ${s.target}` : s.verdict,
  };
}

/** The deciding rule's role, with the host endpoint and tier the path went through on the way. */
export function decide(ev: Evaluation): Decision {
  let hostEndpoint: string | undefined;
  let tier: string | undefined;
  for (const s of ev.path) {
    const r = ruleRole(s.comment);
    if (r.kind === 'dispatch') hostEndpoint = r.hep;
    if (r.kind === 'tier') tier = r.tier;
  }
  const base = { verdict: ev.verdict, ...(hostEndpoint ? { hostEndpoint } : {}) };
  if (!ev.decidedBy) return { kind: 'no-policy', ...base };
  const role: RuleRole = ruleRole(ev.decidedBy.comment);
  switch (role.kind) {
    case 'policy':
      return { kind: 'policy', ...base, policy: role.policy, ruleIndex: role.ruleIndex, action: role.action, ...(tier ? { tier } : {}) };
    case 'failsafe':
      return { kind: 'failsafe', ...base, failsafe: role.entry };
    case 'conntrack':
      return { kind: 'conntrack', ...base };
    case 'builtin':
      return { kind: 'builtin', ...base };
    default:
      return { kind: 'other', ...base };
  }
}

function narrate(d: Decision): string {
  const where = d.hostEndpoint ? ` (host endpoint ${d.hostEndpoint})` : '';
  switch (d.kind) {
    case 'no-policy':
      return d.hostEndpoint
        ? `accept: host endpoint ${d.hostEndpoint} applies but ${NO_POLICY_DECIDED}`
        : `accept: no host endpoint applies; ${NO_POLICY_DECIDED}`;
    case 'policy': {
      const by = `policy ${d.policy} rule ${d.ruleIndex} (${d.action})${d.tier ? ` in tier ${d.tier}` : ''}${where}`;
      return d.verdict === 'drop' ? `DROP by ${by}` : `accept by ${by}; ${ACCEPT_GOES_ON}`;
    }
    case 'failsafe':
      return `accept by failsafe ${d.failsafe ?? ''}${where} (failsafes come before any policy); ${ACCEPT_GOES_ON}`;
    case 'conntrack':
      return d.verdict === 'drop' ? `DROP by conntrack: the packet is in state invalid${where}` : `accept by conntrack (established or related flow); ${ACCEPT_GOES_ON}`;
    case 'builtin':
      return `accept by a built-in rule that keeps the host reachable; ${ACCEPT_GOES_ON}`;
    case 'other':
      return `${d.verdict === 'drop' ? 'DROP' : 'accept'} by an unnamed rule${where}`;
  }
}

function describePacket(req: ExplainRequest, packet: Packet): string {
  const port = (p: number | undefined): string => (p !== undefined && packet.l4proto !== 1 && packet.l4proto !== 58 ? `:${p}` : '');
  const src = packet.nfproto === 6 ? `[${req.src}]` : req.src;
  const dst = packet.nfproto === 6 ? `[${req.dst}]` : req.dst;
  const icmp = packet.l4proto === 1 || packet.l4proto === 58 ? ` type ${packet.transport[0]}` : '';
  return `${req.protocol}${icmp} ${src}${port(req.sport)} -> ${dst}${port(req.dport)} on ${req.iif} (ct state ${packet.ctState})`;
}

/** Human lines for the CLI: the summary, then each matching rule with its role. */
export function formatExplanation(e: ExplainResult): string[] {
  const lines = [e.summary];
  for (const s of e.path) lines.push(`  ${s.chain}: ${describeRole(ruleRole(s.comment))}: ${s.rule}`);
  return lines;
}
