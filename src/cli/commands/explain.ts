// flockguard explain : which rule decides a packet, by evaluating the agent's current ruleset.
import type { ExplainRequest, ExplainResult } from '../../api/service';
import { OUTPUT_OPTION, SOCKET_OPTION, integerOption, noPositionals, outputFormat, parseCommandArgs, stringOption } from '../args';
import { withAgent } from '../connect';
import { UsageError, type CliIO } from '../io';

const OPTIONS = {
  ...OUTPUT_OPTION,
  ...SOCKET_OPTION,
  iif: { type: 'string' },
  src: { type: 'string' },
  dst: { type: 'string' },
  proto: { type: 'string' },
  sport: { type: 'string' },
  dport: { type: 'string' },
  'icmp-type': { type: 'string' },
} as const;

const PROTOCOLS = new Set(['tcp', 'udp', 'sctp', 'udplite', 'icmp', 'icmpv6']);

function required(args: Parameters<typeof stringOption>[0], name: string): string {
  const v = stringOption(args, name);
  if (v === undefined || v === '') throw new UsageError(`explain: --${name} is required`, 'explain');
  return v;
}

async function request(args: Parameters<typeof stringOption>[0]): Promise<ExplainRequest> {
  const { parseIpAddress } = await import('../../policy/nets');
  const req: ExplainRequest = { iif: required(args, 'iif'), src: required(args, 'src'), dst: required(args, 'dst'), protocol: required(args, 'proto').toLowerCase() };
  for (const name of ['src', 'dst'] as const) {
    try {
      parseIpAddress(req[name]);
    } catch {
      throw new UsageError(`explain: --${name} ${JSON.stringify(req[name])} is not an IP address; write e.g. 192.0.2.10 or 2001:db8::1`, 'explain');
    }
  }
  if (!PROTOCOLS.has(req.protocol) && !/^\d{1,3}$/.test(req.protocol)) {
    throw new UsageError(`explain: --proto ${JSON.stringify(req.protocol)} must be tcp, udp, sctp, udplite, icmp, icmpv6 or a number`, 'explain');
  }
  const sport = integerOption('explain', args, 'sport', 1, 65535);
  const dport = integerOption('explain', args, 'dport', 1, 65535);
  const icmpType = integerOption('explain', args, 'icmp-type', 0, 255);
  if (sport !== undefined) req.sport = sport;
  if (dport !== undefined) req.dport = dport;
  if (icmpType !== undefined) req.icmpType = icmpType;
  return req;
}

function human(req: ExplainRequest, r: ExplainResult): string {
  const port = (p: number | undefined): string => (p === undefined ? '' : `:${p}`);
  const icmp = req.icmpType !== undefined ? ` type ${req.icmpType}` : '';
  let out = `packet: iif ${req.iif} ${req.protocol}${icmp} ${req.src}${port(req.sport)} -> ${req.dst}${port(req.dport)}\n`;
  r.path.forEach((step, i) => {
    const comment = step.comment ? `  [${step.comment}]` : '';
    out += `  ${i + 1}. ${step.chain}: ${step.rule}${comment} -> ${step.verdict}\n`;
  });
  out += `verdict: ${r.verdict}${r.summary ? ` (${r.summary})` : ''}\n`;
  return out;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseCommandArgs('explain', argv, OPTIONS);
  noPositionals('explain', args);
  const output = outputFormat('explain', args, ['json'] as const);
  const req = await request(args);
  const result = await withAgent(args, io, (client) => client.explain(req));
  io.stdout.write(output === 'json' ? JSON.stringify({ packet: req, ...result }, null, 2) + '\n' : human(req, result));
  return 0;
}
