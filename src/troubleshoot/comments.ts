// What a rule of the flockguard table is, read back from its comment. The compiler names every rule
// it emits (src/compiler/compile.ts, rules.ts policyRuleComment): explain, counters and trace map the
// kernel's rules to policies, tiers, failsafes and conntrack through these comments alone, so they
// work on whatever table the kernel holds, including one written by another agent version.

export type RuleRole =
  | { kind: 'policy'; policy: string; ruleIndex: number; action: string }
  | { kind: 'tier'; tier: string }
  | { kind: 'failsafe'; entry?: string }
  | { kind: 'conntrack'; states: string }
  | { kind: 'dispatch'; hep: string; detail: string }
  | { kind: 'builtin'; what: string }
  | { kind: 'trace'; id: string }
  | { kind: 'unknown'; comment?: string };

/** Comment prefix of the temporary `meta nftrace set 1` rules `flockguard trace` inserts. */
export const TRACE_COMMENT_PREFIX = 'flockguard-trace ';

const POLICY = /^policy=(.+) rule=(\d+) action=(\S+)$/;
const BUILTINS = new Set(['icmpv6 neighbour discovery', 'dhcp', 'dhcpv6']);

export function ruleRole(comment: string | undefined): RuleRole {
  if (comment === undefined) return { kind: 'unknown' };
  const policy = POLICY.exec(comment);
  if (policy) return { kind: 'policy', policy: policy[1], ruleIndex: Number(policy[2]), action: policy[3] };
  if (comment.startsWith('tier=')) return { kind: 'tier', tier: comment.slice('tier='.length) };
  if (comment === 'failsafe') return { kind: 'failsafe' };
  if (comment.startsWith('failsafe ')) return { kind: 'failsafe', entry: comment.slice('failsafe '.length) };
  if (comment.startsWith('conntrack ')) return { kind: 'conntrack', states: comment.slice('conntrack '.length) };
  if (comment.startsWith('dispatch hep=')) {
    const rest = comment.slice('dispatch hep='.length);
    const space = rest.indexOf(' ');
    return space < 0 ? { kind: 'dispatch', hep: rest, detail: '' } : { kind: 'dispatch', hep: rest.slice(0, space), detail: rest.slice(space + 1) };
  }
  if (comment.startsWith(TRACE_COMMENT_PREFIX)) return { kind: 'trace', id: comment.slice(TRACE_COMMENT_PREFIX.length) };
  if (BUILTINS.has(comment)) return { kind: 'builtin', what: comment };
  return { kind: 'unknown', comment };
}

/** A short human name for the rule: "policy deny-all rule 0", "failsafe tcp:22", "conntrack established,related". */
export function describeRole(role: RuleRole): string {
  switch (role.kind) {
    case 'policy':
      return `policy ${role.policy} rule ${role.ruleIndex} (${role.action})`;
    case 'tier':
      return `tier ${role.tier}`;
    case 'failsafe':
      return role.entry ? `failsafe ${role.entry}` : 'failsafe check';
    case 'conntrack':
      return `conntrack ${role.states}`;
    case 'dispatch':
      return `host endpoint ${role.hep}${role.detail ? ` (${role.detail})` : ''}`;
    case 'builtin':
      return `built-in ${role.what} accept`;
    case 'trace':
      return `trace rule ${role.id}`;
    case 'unknown':
      return role.comment !== undefined ? `rule "${role.comment}"` : 'unnamed rule';
  }
}
