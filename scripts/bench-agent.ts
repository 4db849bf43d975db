// Benchmark: the agent's push-to-kernel latency against `nft -f` of the same table, in one run.
//
//   node dist/scripts/bench-agent.js [--prefixes 100000] [--rules 1000] [--runs 3]
//
// It re-executes itself under `unshare -n`: every measurement happens in a network namespace of its
// own, which the kernel removes when the run ends (the host's ruleset is never touched). Measures,
// median of --runs:
//  1. full apply of a policy with N prefixes (one GlobalNetworkSet) and M rules, through the agent's
//     service (parse + compile + diff + one batch + store), and the kernel part alone; against
//     `nft -f` of the very same table (as `nft list table` prints it), into an empty namespace;
//  2. a one-prefix change (netset add): agent end to end, and the reconciler's diff+commit part;
//     against `nft add element` of one prefix into the same table (with the agent stopped);
//  3. drift repair: `nft delete table inet flockguard` -> table back, as the agent measures it and
//     as seen from outside; against `nft -f` of the whole table (its floor is a full install).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { runAgent, RunningAgent } from '../src/agent/main';
import { CallContext } from '../src/api/service';
import { DriftRepair } from '../src/reconciler/reconciler';

const MARK = 'FLOCKGUARD_BENCH_NETNS';

function prefix(i: number): string {
  // Every other /24 from 1.0.0.0 up, so that no two are adjacent and none merge.
  const x = 2 * i;
  return `${1 + (x >> 16)}.${(x >> 8) & 255}.${x & 255}.0/24`;
}

function policyJson(prefixes: number, rules: number): string {
  const docs = [
    { apiVersion: 'projectcalico.org/v3', kind: 'HostEndpoint', metadata: { name: 'bench-lo', labels: { role: 'bench' } },
      spec: { node: 'bench', interfaceName: 'lo', expectedIPs: ['127.0.0.1'] } },
    { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkSet', metadata: { name: 'big', labels: { list: 'big' } },
      spec: { nets: Array.from({ length: prefixes }, (_, i) => prefix(i)) } },
    { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: 'bench' },
      spec: {
        selector: "role == 'bench'", preDNAT: true, applyOnForward: true, order: 10, types: ['Ingress'],
        ingress: [
          { action: 'Deny', source: { selector: "list == 'big'" } },
          ...Array.from({ length: rules - 1 }, (_, i) => ({ action: 'Allow', protocol: 'TCP', destination: { ports: [1024 + i] } })),
        ],
      } },
  ];
  return docs.map((d) => JSON.stringify(d)).join('\n---\n');
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (t0: number): number => performance.now() - t0;
const nft = (args: string[], input?: string): string => execFileSync('nft', args, { input, encoding: 'utf8', maxBuffer: 1 << 30 });

function timeNft(args: string[], input?: string): number {
  const t0 = performance.now();
  nft(args, input);
  return ms(t0);
}

async function inner(prefixes: number, rules: number, runs: number): Promise<void> {
  const ctx: CallContext = { peer: { claimed: true, uid: 0 }, signal: new AbortController().signal };
  const text = policyJson(prefixes, rules);
  const rows: Record<string, number[]> = {};
  const add = (k: string, v: number): void => {
    (rows[k] ??= []).push(v);
  };
  for (let run = 0; run < runs; run++) {
    nft(['flush', 'ruleset']);
    const dir = mkdtempSync(join(tmpdir(), 'fg-bench-'));
    let agent: RunningAgent | undefined;
    try {
      agent = await runAgent({ socket: join(dir, 's'), db: join(dir, 'db'), nodeName: 'bench', priority: -150, resyncInterval: 0, logLevel: 'error' }, { handleSignals: false });
      const svc = agent.service;
      let t0 = performance.now();
      await svc.apply({ documents: [{ fileName: 'bench.json', text }], dryRun: false, skipUnsupported: false }, ctx);
      add('1. full apply: agent end to end (parse+compile+diff+commit+store)', ms(t0));
      add('1. full apply: reconciler diff+encode+commit', agent.reconciler.status().lastCommit!.durationMs);
      t0 = performance.now();
      await agent.reconciler.idle();
      add('1. then: background read-back of the new rules\' handles', ms(t0));
      const listing = nft(['list', 'table', 'inet', 'flockguard']);
      const file = join(dir, 'table.nft');
      writeFileSync(file, listing);

      t0 = performance.now();
      await svc.netsetAdd({ name: 'big', cidrs: ['203.0.113.0/24'], dryRun: false }, ctx);
      add('2. one-prefix add: agent end to end (store+compile+diff+commit)', ms(t0));
      add('2. one-prefix add: reconciler diff+commit', agent.reconciler.status().lastCommit!.durationMs);
      t0 = performance.now();
      await svc.netsetAdd({ name: 'big', cidrs: ['203.0.114.0/24'], dryRun: false }, ctx);
      add('2. second one-prefix add: agent end to end', ms(t0));
      add('2. second one-prefix add: reconciler diff+commit', agent.reconciler.status().lastCommit!.durationMs);

      const repaired = once(agent.reconciler, 'drift');
      t0 = performance.now();
      nft(['delete', 'table', 'inet', 'flockguard']);
      const [rep] = (await repaired) as [DriftRepair];
      add('3. drift repair (delete table -> repaired), seen from outside', ms(t0));
      add('3. drift repair, agent-measured (first event -> committed)', rep.latencyMs);

      // With the agent stopped (the table stays), so that it does not repair the change as drift.
      await agent.stop();
      agent = undefined;
      const setName = /set (\S+) \{[^}]*flags interval/.exec(listing)?.[1];
      if (setName) add('2. nft add element, one prefix (same table, agent stopped)', timeNft(['add', 'element', 'inet', 'flockguard', setName, '{ 198.51.100.0/24 }']));
      nft(['flush', 'ruleset']);
      add('1/3. nft -f of the same table (empty namespace)', timeNft(['-f', file]));
    } finally {
      await agent?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const nftFull = median(rows['1/3. nft -f of the same table (empty namespace)']!);
  process.stdout.write(`flockguard agent benchmark: ${prefixes} prefixes, ${rules} rules, median of ${runs} run(s), ms\n`);
  for (const [k, v] of Object.entries(rows)) {
    const m = median(v);
    process.stdout.write(`${k.padEnd(72)} ${m.toFixed(1).padStart(10)}   (x${(m / nftFull).toFixed(2)} of nft -f)   [${v.map((x) => x.toFixed(0)).join(', ')}]\n`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { prefixes: { type: 'string', default: '100000' }, rules: { type: 'string', default: '1000' }, runs: { type: 'string', default: '3' } } });
  if (process.env[MARK] !== '1') {
    const r = spawnSync('unshare', ['-n', process.execPath, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, [MARK]: '1' } });
    process.exit(r.status ?? 1);
  }
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  await inner(Number(values.prefixes), Number(values.rules), Number(values.runs));
}

main().catch((err) => {
  process.stderr.write(`bench-agent: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
