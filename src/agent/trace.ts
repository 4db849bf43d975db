// `flockguard trace`: marks the packets the request describes with `meta nftrace set 1` at the head of
// our base chain (so the kernel reports every rule they meet, nf_tables_trace.c), and turns the
// kernel's trace events for our table into lines naming policy and rule. The marking rules are part
// of what the agent pushes only while a trace runs.
import { isIP } from 'node:net';
import { ServiceError, TraceLine, TraceRequest } from '../api/service';
import { BASE_CHAIN } from '../compiler';
import { addrPrefix, iifname, l4proto, nfproto, portMatch } from '../compiler/exprs';
import { TraceEvent } from '../kernel/trace';
import { Expr, Rule, Ruleset } from '../nftables/model';
import { formatIpAddress, parseIpAddress } from '../policy/nets';

export const TRACE_COMMENT = 'flockguard trace';
const TCP = 6;
const UDP = 17;

function family(req: TraceRequest): 4 | 6 | undefined {
  const fams = [req.src, req.dst].filter((a): a is string => a !== undefined).map((a) => {
    const f = isIP(a);
    if (f === 0) throw new ServiceError('TRACE_BAD_ADDRESS', `trace: "${a}" is not an IP address`, { status: 'INVALID_ARGUMENT' });
    return f as 4 | 6;
  });
  if (fams.length === 2 && fams[0] !== fams[1]) {
    throw new ServiceError('TRACE_BAD_ADDRESS', `trace: --src ${req.src} and --dst ${req.dst} are of different families`, { status: 'INVALID_ARGUMENT' });
  }
  return fams[0];
}

/** The `... meta nftrace set 1` rules for a request: one, or one per transport protocol when a port is given. */
export function traceRules(req: TraceRequest, table: string): Rule[] {
  const fam = family(req);
  const match: Expr[] = [];
  if (req.iif !== undefined) match.push(...iifname(req.iif));
  if (fam !== undefined) {
    match.push(...nfproto(fam));
    if (req.src !== undefined) match.push(...addrPrefix(fam, 'saddr', parseIpAddress(req.src).addr, fam === 4 ? 32 : 128, 'eq'));
    if (req.dst !== undefined) match.push(...addrPrefix(fam, 'daddr', parseIpAddress(req.dst).addr, fam === 4 ? 32 : 128, 'eq'));
  }
  const mark: Expr[] = [{ type: 'immediate', dreg: 1, data: Buffer.from([1]) }, { type: 'meta', key: 'nftrace', sreg: 1 }];
  const rule = (exprs: Expr[]): Rule => ({ family: 'inet', table, chain: BASE_CHAIN, exprs: [...exprs, ...mark], comment: TRACE_COMMENT });
  if (req.dport === undefined) return [rule(match)];
  return [TCP, UDP].map((p) => rule([...match, ...l4proto(p), ...portMatch('dport', req.dport!, req.dport!, 'eq')]));
}

/** `desired` with the trace rules first in the base chain. */
export function withTraceRules(desired: Ruleset, rules: readonly Rule[]): Ruleset {
  if (rules.length === 0) return desired;
  const chains = new Map(desired.rules);
  chains.set(BASE_CHAIN, [...rules, ...(desired.rules.get(BASE_CHAIN) ?? [])]);
  return { ...desired, rules: chains };
}

const POLICY_COMMENT = /policy=(\S+) rule=(\d+) action=(\S+)/;

function addresses(t: TraceEvent): string | undefined {
  const h = t.networkHeader;
  if (!h) return undefined;
  if (t.nfproto === 2 && h.length >= 20) return `${formatIpAddress(4, h.subarray(12, 16))} -> ${formatIpAddress(4, h.subarray(16, 20))}`;
  if (t.nfproto === 10 && h.length >= 40) return `${formatIpAddress(6, h.subarray(8, 24))} -> ${formatIpAddress(6, h.subarray(24, 40))}`;
  return undefined;
}

/** One kernel trace event as a line; `comment` is the comment of the rule it names, if known. */
export function traceLine(t: TraceEvent, comment: string | undefined): TraceLine {
  const m = POLICY_COMMENT.exec(comment ?? '');
  const verdict = t.verdict ? `${t.verdict.kind}${t.verdict.chain ? ` ${t.verdict.chain}` : ''}` : undefined;
  const what = t.type === 'policy' ? `policy ${verdict ?? ''}`.trim()
    : t.type === 'return' ? 'return'
      : `rule ${t.ruleHandle ?? '?'}${comment ? ` "${comment}"` : ''}${verdict ? ` (verdict ${verdict})` : ''}`;
  const addr = addresses(t);
  return {
    time: new Date().toISOString(),
    traceId: t.id.toString(16).padStart(8, '0'),
    chain: t.chain,
    text: `${t.family} ${t.table} ${t.chain} ${what}${addr ? ` [${addr}]` : ''}`,
    policy: m?.[1],
    ruleIndex: m ? Number(m[2]) : undefined,
    verdict,
  };
}
