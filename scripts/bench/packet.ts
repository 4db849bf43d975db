// (h) Packet cost: bulk TCP throughput and new connections per second from a LAN client to the node
// of a scripts/lab lab (veth pairs between namespaces), through our prerouting chain as the agent
// installs it, against no policy in alternating runs. "No policy" is the same table made dormant
// (its base chains leave the hook) with the agent stopped, so nothing else changes between the two.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../lab/lab';
import { NODE_NAME, policyText, type PolicyShape } from './fixtures';
import { AgentProcess, cli, median } from './proc';

export interface PacketConfigResult {
  config: string;
  policyMbps: number[];
  noneMbps: number[];
  policyCps: number[];
  noneCps: number[];
  /** Median over the alternating pairs of policy / none (each pair measured back to back). */
  throughputRatio: number;
  connectionRatio: number;
}

export interface PacketResult {
  prefixes: number;
  configs: PacketConfigResult[];
  text: string;
  markdown: string;
}

/**
 * Pairs (none, policy) measured back to back, `runs` times per configuration; on a busy 2-core
 * machine single runs swing by 2x, so the ratio is the median of the per-pair ratios.
 */
export async function measurePackets(prefixes: number, o: { log: (l: string) => void; runs: number; durationMs: number }): Promise<PacketResult> {
  const lab = await Lab.create({ kubeProxyMode: 'nftables', ipv6: false });
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-pkt-'));
  const configs: PacketConfigResult[] = [];
  try {
    const target = { address: lab.node.eth0v4, port: lab.node.httpPort };
    const shapes: Array<[string, PolicyShape]> = [
      ['1,000 linear rules', { prefixes: 0, rules: 1000, allowPort: target.port }],
      [`${prefixes.toLocaleString('en-US')} prefixes in the set`, { prefixes, rules: 2, allowPort: target.port }],
    ];
    const nodeNft = (args: string[]): Promise<unknown> => lab.exec(lab.node, ['nft', ...args]);
    const measure = async (): Promise<[number, number]> => {
      const tp = await lab.measureThroughput(lab.clients.allowed, target.address, target.port, { durationMs: o.durationMs });
      const cr = await lab.measureConnectionRate(lab.clients.allowed, target.address, target.port, { durationMs: o.durationMs });
      if (cr.failures > 0) throw new Error(`connection test: ${cr.failures} failures (${cr.firstFailure ?? ''})`);
      return [(tp.bytesPerSecond * 8) / 1e6, cr.connectionsPerSecond];
    };
    for (const [config, shape] of shapes) {
      const file = join(dir, 'policy.json');
      writeFileSync(file, policyText({ ...shape, iface: 'eth0', expectedIPs: [lab.node.eth0v4] }));
      rmSync(join(dir, 'agent.db'), { force: true });
      const agent = await AgentProcess.start(dir, { nodeName: NODE_NAME, argvPrefix: ['ip', 'netns', 'exec', lab.node.ns] });
      try {
        cli(['apply', '-f', file], agent.socket);
      } finally {
        await agent.stop();
      }
      const r: PacketConfigResult = { config, policyMbps: [], noneMbps: [], policyCps: [], noneCps: [], throughputRatio: NaN, connectionRatio: NaN };
      for (let i = 0; i < o.runs; i++) {
        await nodeNft(['add', 'table', 'inet', 'flockguard', '{ flags dormant; }']);
        const [nm, nc] = await measure();
        await nodeNft(['add', 'table', 'inet', 'flockguard']);
        const [pm, pc] = await measure();
        r.noneMbps.push(nm);
        r.noneCps.push(nc);
        r.policyMbps.push(pm);
        r.policyCps.push(pc);
        o.log(`  (h) ${config}: ${pm.toFixed(0)} vs ${nm.toFixed(0)} Mbit/s, ${pc.toFixed(0)} vs ${nc.toFixed(0)} conn/s`);
      }
      r.throughputRatio = median(r.policyMbps.map((p, i) => p / r.noneMbps[i]!));
      r.connectionRatio = median(r.policyCps.map((p, i) => p / r.noneCps[i]!));
      configs.push(r);
      await nodeNft(['delete', 'table', 'inet', 'flockguard']);
    }
  } finally {
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  const head = ['config', 'bulk TCP Mbit/s, medians (policy / none)', 'ratio (median of pairs)', 'new conn/s, medians (policy / none)', 'ratio (median of pairs)', 'target'];
  const rows = configs.map((c) => [
    c.config,
    `${median(c.policyMbps).toFixed(0)} / ${median(c.noneMbps).toFixed(0)}`,
    `${c.throughputRatio.toFixed(3)}x`,
    `${median(c.policyCps).toFixed(0)} / ${median(c.noneCps).toFixed(0)}`,
    `${c.connectionRatio.toFixed(3)}x`,
    c.config.includes('prefixes') ? `>= 0.95x no policy: ${c.throughputRatio >= 0.95 ? 'met' : 'MISSED'} (bulk TCP)` : '',
  ]);
  const text = `(h) packet cost, veth through the lab node, ${o.runs} pairs of ${o.durationMs / 1000} s runs alternating with no policy:\n` +
    [head, ...rows].map((r) => r.join('  |  ')).join('\n') + '\n';
  const markdown = `(h) Packet cost, veth through the lab node, ${o.runs} pairs of ${o.durationMs / 1000} s runs alternating with no policy (the same table made dormant); the established-connection rule comes first in our chain, so bulk TCP meets the policy only on each connection's first packet, new connections on every one:\n\n` +
    [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n') + '\n';
  return { prefixes, configs, text, markdown };
}
