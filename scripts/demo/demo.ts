// The flockguard demo (`sudo scripts/demo.sh`): builds the lab (a Kubernetes-like node in network
// namespaces, kube-proxy rules included), starts the flockguard agent in the node's namespace, and
// shows who reaches the Service through the NodePort, the external IP and the LoadBalancer IP:
//   1. with the intent written as an input/forward filter (the control case: it blocks nothing,
//      because kube-proxy's DNAT already rewrote the address and port those hooks see);
//   2. with examples/prednat-nodeport.yaml applied by `flockguard apply -f` (pre-DNAT policy).
// Every row is a real TCP connection; the "why" column is `flockguard explain -o json`. Everything
// is torn down at the end, also on failure or Ctrl-C.
//   node dist/scripts/demo/demo.js [--mode nftables|iptables]
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Lab, type ConnectOutcome, type KubeProxyMode, type LabHost } from '../lab/lab';
import { FlockAgent, type ExplainAnswer } from './flock';
import { paint, renderTable, type Cell } from './table';

const NODE_NAME = 'node-1';
const DROP_MS = 500;
const colour = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;

interface Target {
  what: string;
  address: string;
  port: number;
}

interface Row {
  client: LabHost;
  /** The lab's unlisted client, and the failsafe port, to tell intended from leaked connections. */
  denied: LabHost;
  sshPort: number;
  clientLabel: string;
  target: Target;
  control: ConnectOutcome;
  flockguard: ConnectOutcome;
  why: ExplainAnswer;
}

function say(text: string): void {
  process.stdout.write(`${paint('▸', '36', colour)} ${text}\n`);
}

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'examples', 'prednat-nodeport.yaml'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`examples/prednat-nodeport.yaml not found above ${__dirname}`);
    dir = up;
  }
  return dir;
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function targets(lab: Lab): Target[] {
  const { node: n, service: s } = lab;
  const list: Array<[string, string | undefined, number]> = [
    ['NodePort', n.eth0v4, s.nodePort],
    ['NodePort', n.eth0v6, s.nodePort],
    ['external IP', s.externalIP, s.port],
    ['external IP', s.externalIPv6, s.port],
    ['LoadBalancer IP', s.loadBalancerIP, s.port],
    ['LoadBalancer IP', s.loadBalancerIPv6, s.port],
    ['ssh (failsafe)', n.eth0v4, n.sshPort],
  ];
  return list.filter((t): t is [string, string, number] => t[1] !== undefined).map(([what, address, port]) => ({ what, address, port }));
}

/**
 * The example's intent ("only allowed-clients may use the Service") as a filter at the input and
 * forward hooks, matching the addresses and ports the client asked for, as people first write it.
 */
function inputForwardFilter(lab: Lab): string {
  const allowed = lab.clients.allowed;
  const rules: string[] = [];
  for (const t of targets(lab).filter((x) => x.port !== lab.node.sshPort)) {
    const [l3, src] = t.address.includes(':') ? ['ip6', allowed.v6] : ['ip', allowed.v4];
    if (src === undefined) continue;
    rules.push(`${l3} saddr != ${src} ${l3} daddr ${t.address} tcp dport ${t.port} drop`);
  }
  const body = rules.join('\n    ');
  return `table inet demo-control {
  chain input {
    type filter hook input priority filter;
    ${body}
  }
  chain forward {
    type filter hook forward priority filter;
    ${body}
  }
}
`;
}

async function probeAll(lab: Lab, pairs: Array<{ client: LabHost; target: Target }>): Promise<ConnectOutcome[]> {
  return Promise.all(pairs.map(({ client, target }) => lab.connect(client, target.address, target.port, { timeoutMs: DROP_MS })));
}

function outcomeCell(r: ConnectOutcome): Cell {
  if (r.ok) return { text: `reached ${r.hello?.server ?? ''}`.trim(), colour: '32' };
  return { text: r.reason === 'timeout' ? 'blocked' : `failed (${r.reason})`, colour: '31' };
}

/** The control column: a connection the intent meant to block that got through is a warning. */
function leakCell(r: ConnectOutcome, intended: boolean): Cell {
  const cell = outcomeCell(r);
  return r.ok && !intended ? { ...cell, colour: '33' } : cell;
}

function whyText(e: ExplainAnswer): string {
  const last = e.path[e.path.length - 1];
  // Nothing decided: the packet fell off the end of our chains (no host endpoint, or Pass).
  if (!last || !/^(accept|drop)/.test(last.verdict)) return `no pre-DNAT decision: ${e.verdict} by default`;
  if (last.policy !== undefined) {
    const action = /action=(\S+)/.exec(last.comment ?? '')?.[1] ?? last.verdict;
    return `${last.policy} rule ${last.ruleIndex} (${action})`;
  }
  return last.comment ?? last.rule;
}

async function explainRow(agent: FlockAgent, lab: Lab, client: LabHost, t: Target): Promise<ExplainAnswer> {
  const src = t.address.includes(':') ? client.v6 : client.v4;
  return agent.explain({ iif: lab.node.eth0, src: src ?? '', dst: t.address, proto: 'tcp', dport: t.port });
}

function render(rows: Row[]): string {
  const header = ['client', 'service', 'input/forward filter', 'flockguard', 'why (flockguard explain)'];
  const cells = rows.map((r): Cell[] => {
    const explained = r.why.verdict === 'accept' ? r.flockguard.ok : !r.flockguard.ok;
    return [
      { text: r.clientLabel },
      { text: `${r.target.what} ${hostPort(r.target.address, r.target.port)}` },
      leakCell(r.control, r.client !== r.denied || r.target.port === r.sshPort),
      outcomeCell(r.flockguard),
      { text: whyText(r.why) + (explained ? '' : `  [explain says ${r.why.verdict}!]`), colour: explained ? '2' : '33' },
    ];
  });
  return renderTable(header, cells, { colour });
}

const USAGE = 'usage: sudo scripts/demo.sh [--mode nftables|iptables]   (kube-proxy mode of the lab, default nftables)\n';

function parseMode(argv: string[]): KubeProxyMode {
  const unknown = argv.filter((a, i) => a !== '--mode' && argv[i - 1] !== '--mode');
  if (unknown.length > 0) throw new Error(`unexpected argument ${JSON.stringify(unknown[0])}\n${USAGE}`);
  const i = argv.indexOf('--mode');
  const mode = i >= 0 ? argv[i + 1] : 'nftables';
  if (mode !== 'nftables' && mode !== 'iptables') throw new Error(`--mode must be nftables or iptables, got ${JSON.stringify(mode)}`);
  return mode;
}

async function demo(mode: KubeProxyMode, state: { lab?: Lab; agent?: FlockAgent }): Promise<void> {
  say(`building the lab: a node with kube-proxy (${mode} mode), a pod behind Service lab/echo, two clients on the LAN`);
  const lab = await Lab.create({ kubeProxyMode: mode, ipv6: true });
  state.lab = lab;
  const agent = new FlockAgent(lab, { nodeName: NODE_NAME, logLevel: 'warn' });
  state.agent = agent;
  say(`starting flockguard agent --node-name ${NODE_NAME} in namespace ${lab.node.ns}`);
  await agent.start();

  const clients: Array<[LabHost, string]> = [
    [lab.clients.allowed, `${lab.clients.allowed.v4} listed`],
    [lab.clients.denied, `${lab.clients.denied.v4} unlisted`],
  ];
  const pairs = clients.flatMap(([client, clientLabel]) => targets(lab).map((target) => ({ client, clientLabel, target })));

  say('control: the same intent as an input/forward filter (no flockguard policy yet)');
  await lab.nft(inputForwardFilter(lab));
  const control = await probeAll(lab, pairs);
  await lab.exec(lab.node, ['nft', 'delete', 'table', 'inet', 'demo-control']);

  const example = join(repoRoot(), 'examples', 'prednat-nodeport.yaml');
  say(`flockguard apply -f examples/prednat-nodeport.yaml`);
  const applied = await agent.cli(['apply', '-f', example]);
  process.stdout.write(applied.stdout.replace(/^(?=.)/gm, '    '));
  const enforced = await probeAll(lab, pairs);
  const whys = await Promise.all(pairs.map((p) => explainRow(agent, lab, p.client, p.target)));
  const rows: Row[] = pairs.map((p, i) => ({
    ...p,
    denied: lab.clients.denied,
    sshPort: lab.node.sshPort,
    control: control[i],
    flockguard: enforced[i],
    why: whys[i],
  }));

  process.stdout.write('\n' + render(rows) + '\n');
  const unlisted = rows.filter((r) => r.client === lab.clients.denied && r.target.port !== lab.node.sshPort);
  const leaked = unlisted.filter((r) => r.control.ok).length;
  const blocked = unlisted.filter((r) => !r.flockguard.ok).length;
  const nodePort = hostPort(lab.node.eth0v4, lab.service.nodePort);
  process.stdout.write(
    [
      `  listed: in GlobalNetworkSet allowed-clients. Each cell is a real TCP connection from that client.`,
      `  The input/forward filter let the unlisted client reach the Service ${leaked} of ${unlisted.length} times: when a`,
      `  packet gets to those hooks, kube-proxy has already rewritten ${nodePort} to the pod`,
      `  (${hostPort(lab.pod.v4, lab.pod.port)}), so the rule never matches. flockguard decides in prerouting at`,
      `  priority -150, before kube-proxy's DNAT: it blocked ${blocked} of ${unlisted.length}, and ssh stays open as a failsafe.`,
      '',
      '',
    ].join('\n'),
  );
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const mode = parseMode(argv);
  const state: { lab?: Lab; agent?: FlockAgent } = {};
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\nflockguard demo: ${signal}, tearing down\n`);
    state.lab?.destroySync();
    state.agent?.disposeSync();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  try {
    await demo(mode, state);
    return 0;
  } catch (err) {
    const e = err as Error & { code?: string };
    process.stderr.write(`flockguard demo failed: ${e.code ? `${e.code}: ` : ''}${e.message}\n`);
    if (state.agent?.log) process.stderr.write(`agent log:\n${state.agent.log}\n`);
    return 1;
  } finally {
    say('tearing down the lab');
    await state.agent?.dispose();
    await state.lab?.destroy();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`flockguard demo: ${err.message}\n`);
    process.exitCode = 1;
  },
);
