// Help text for every command. Kept apart from the commands so that `flockguard help` loads
// nothing else.

export interface CommandHelp {
  summary: string;
  usage: string;
}

const SOCKET = '  --socket PATH          the agent socket (default $FLOCKGUARD_SOCKET or /run/flockguard/flockguard.sock)';

export const HELP: Record<string, CommandHelp> = {
  apply: {
    summary: 'apply policy files atomically; returns once the kernel holds them',
    usage: `flockguard apply -f FILE|DIR|- [-f ...] [--dry-run] [--skip-unsupported] [--detailed-exitcode] [-o json|name]
  -f, --filename         file, directory (read recursively: *.yaml, *.yml, *.json) or - for stdin
      --dry-run          show what would change, change nothing
      --skip-unsupported drop unsupported kinds/fields with a warning instead of failing
      --detailed-exitcode exit 0 when nothing changed, 2 when something did, 1 on error
  -o, --output           json: one object with changed, comment and the per-object actions
${SOCKET}
Files are parsed and validated here first; on any error nothing is sent and apply exits 1.`,
  },
  delete: {
    summary: 'delete resources by kind and name, or those named in files',
    usage: `flockguard delete KIND NAME [NAME...] | -f FILE|DIR|- [--dry-run] [--skip-not-exists] [-o json]
  KIND: globalnetworkpolicy|gnp, hostendpoint|hep, globalnetworkset|gns, tier
${SOCKET}`,
  },
  get: {
    summary: 'show stored resources; -o yaml/json output can be applied back unchanged',
    usage: `flockguard get KIND [NAME] [-o yaml|json|wide|name]
  KIND: globalnetworkpolicy|gnp, hostendpoint|hep, globalnetworkset|gns, tier, all
${SOCKET}`,
  },
  diff: {
    summary: 'compare files with what the agent stores (exit 0 same, 1 different, >1 error)',
    usage: `flockguard diff -f FILE|DIR|- [--skip-unsupported] [--quiet]
  prints a unified diff of the YAML of each object that differs
      --quiet            print nothing, only set the exit code
${SOCKET}`,
  },
  validate: {
    summary: 'check policy files offline (exit 0 valid, 1 with every error)',
    usage: `flockguard validate -f FILE|DIR|- [-f ...] [--skip-unsupported]`,
  },
  status: {
    summary: 'agent state: revision, kernel sync, last commit, drift repairs',
    usage: `flockguard status [-o json]
  exits 1 when the agent cannot be reached or the kernel is not in sync with the current revision
${SOCKET}`,
  },
  history: {
    summary: 'list stored revisions, newest first',
    usage: `flockguard history [--limit N] [-o json]
${SOCKET}`,
  },
  rollback: {
    summary: 'make an earlier revision current again (as a new revision)',
    usage: `flockguard rollback [--to REVISION] [--dry-run] [-o json]
  without --to: the revision before the current one
${SOCKET}`,
  },
  netset: {
    summary: 'add or remove CIDRs of a GlobalNetworkSet',
    usage: `flockguard netset add|remove NAME CIDR... [--dry-run] [-o json]
${SOCKET}`,
  },
  explain: {
    summary: 'which rule decides a packet, evaluated against the current ruleset',
    usage: `flockguard explain --iif IF --src IP --dst IP --proto P [--sport N] [--dport N] [--icmp-type T] [-o json]
  P: tcp, udp, sctp, icmp, icmpv6 or a protocol number; --dst is the address the client asked for (before DNAT)
${SOCKET}`,
  },
  counters: {
    summary: 'packets and bytes per policy rule',
    usage: `flockguard counters [POLICY] [--watch] [--interval 2s] [-o json]
  --watch repeats every --interval until Ctrl-C (with -o json: one JSON object per line)
${SOCKET}`,
  },
  trace: {
    summary: 'follow matching packets through the rules live',
    usage: `flockguard trace [--src IP] [--dst IP] [--dport N] [--iif IF] [--timeout 30s|2m] [-o json]
  ends after --timeout (default 30s) or on Ctrl-C
${SOCKET}`,
  },
  monitor: {
    summary: 'stream policy and ruleset change events until Ctrl-C',
    usage: `flockguard monitor [-o json]
${SOCKET}`,
  },
  doctor: {
    summary: 'check the installation and the agent, saying how to fix each problem',
    usage: `flockguard doctor [--config FILE]
${SOCKET}`,
  },
  uninstall: {
    summary: "remove flockguard's table from the kernel on purpose (stop the agent first)",
    usage: `flockguard uninstall [--force]
  deletes table inet flockguard, and with it every flockguard rule and set; other tables are untouched.
  Stop the agent first (systemctl disable --now flockguard): a running agent repairs the deletion as drift,
  so uninstall refuses while the agent's socket answers, unless --force.
${SOCKET}`,
  },
  version: {
    summary: 'print the version',
    usage: 'flockguard version [-o json]',
  },
  help: {
    summary: 'show help for a command',
    usage: 'flockguard help [COMMAND]',
  },
  agent: {
    summary: 'run the node agent (what the systemd unit starts)',
    usage: `flockguard agent [--config FILE] [--socket PATH] [--socket-group GROUP] [--db FILE] [--node-name NAME]
                 [--priority N] [--resync-interval 5m] [--log-level error|warn|info|debug]
  --config        YAML file with the same keys (default /etc/flockguard/config.yaml; flags win):
                  socket, socketGroup, db, nodeName, priority, resyncInterval, logLevel
  --socket        default $FLOCKGUARD_SOCKET or /run/flockguard/flockguard.sock
  --db            default $FLOCKGUARD_DB or /var/lib/flockguard/flockguard.db
  --node-name     default: the host name
  --priority      prerouting hook priority of the flockguard chain (default -150)`,
  },
};

export function overview(): string {
  const width = Math.max(...Object.keys(HELP).map((k) => k.length));
  const lines = Object.entries(HELP).map(([name, h]) => `  ${name.padEnd(width)}  ${h.summary}`);
  return [
    'flockguard: pre-DNAT host firewall for Kubernetes nodes (Calico policy, native nftables)',
    '',
    'usage: flockguard COMMAND [options]',
    '',
    'commands:',
    ...lines,
    '',
    "run 'flockguard help COMMAND' for a command's options",
    '',
  ].join('\n');
}
