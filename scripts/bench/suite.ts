// flockguard's benchmark suite ("Performance at scale"): for 1,000 / 100,000 / 1,000,000 prefixes in
// one GlobalNetworkSet plus 1,000 allow rules, every figure next to its peer from the same run:
//  (a) full apply, CLI to committed kernel state          vs nft -f of the equivalent table
//  (b) the same manifest again with one prefix changed     vs a full nft -f reload (monitor: 1 out, 1 in)
//  (c) flockguard netset add / remove of one prefix        vs nft add element / nft delete element
//  (d) read-back of our table (NftClient.dumpTable)        vs nft -j list table
//  (e) drift repair after nft delete table inet flockguard vs our own full apply (and nft -f)
//  (f) the kernel's floor: the sendmsg time of our batch
//  (g) agent RSS and idle CPU; store size after 20 one-prefix revisions
//  (h) packets: bulk TCP and new connections through a veth pair with our chain installed, as a ratio
//      to no policy (scripts/lab), for no policy / 1,000 linear rules / the largest set.
//
//   scripts/bench.sh [--sizes 1000,100000,1000000 | --quick] [--runs 3] [--slow-runs 1] [--no-packet | --packet-only]
//                    [--packet-runs 7] [--packet-seconds 1.5] [--out bench-results] [--idle 5]
//
// It re-executes itself under `unshare -n` (as scripts/bench-codec.ts does), so every table lives in
// a namespace of its own that the kernel removes when the run ends; the packet test's lab makes and
// removes its own namespaces. Figures that take minutes with nft at 1,000,000 prefixes (nft -j list,
// nft add/delete element) and our full read-back run --slow-runs times (default once) at that size.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { measureSize, ourTableTemplate, type SizeResult } from './measure';
import { measurePackets, type PacketResult } from './packet';
import { AGENT_ROWS, markdownTable, rowsFor, textTable, type Row } from './report';

const MARK = 'FLOCKGUARD_BENCH_NETNS';

function machine(): Record<string, string> {
  const sh = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    nproc: String(cpus().length),
    cpu: cpus()[0]?.model ?? 'unknown',
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: sh('uname', ['-r']),
    nft: sh('nft', ['--version']),
    node: process.version,
    wmemMax: sh('cat', ['/proc/sys/net/core/wmem_max']),
    rmemMax: sh('cat', ['/proc/sys/net/core/rmem_max']),
    loadavgAtStart: sh('cat', ['/proc/loadavg']),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '1000,100000,1000000' },
      quick: { type: 'boolean', default: false },
      runs: { type: 'string', default: '3' },
      'slow-runs': { type: 'string', default: '1' },
      'no-packet': { type: 'boolean', default: false },
      'packet-only': { type: 'boolean', default: false },
      idle: { type: 'string', default: '5' },
      'packet-runs': { type: 'string', default: '7' },
      'packet-seconds': { type: 'string', default: '1.5' },
      out: { type: 'string', default: 'bench-results' },
    },
  });
  const sizes = (values.quick ? '1000,100000' : values.sizes!).split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--sizes: positive integers, got ${values.sizes}`);
  const runs = Number(values.runs);
  const slowRunsAtMillion = Number(values['slow-runs']);
  const log = (line: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  const info = machine();
  log(`machine: ${JSON.stringify(info)}`);

  const results: SizeResult[] = [];
  if (!values['packet-only']) {
    const template = await ourTableTemplate();
    for (const n of sizes) {
      log(`== ${n.toLocaleString('en-US')} prefixes, 1,000 rules`);
      // nft -j list and nft add element take minutes from ~500k prefixes on: fewer runs there.
      const slowRuns = n >= 500_000 ? slowRunsAtMillion : runs;
      results.push(await measureSize(n, { runs, slowRuns, idleSeconds: Number(values.idle), template, log }, 100_000));
      // Raw results so far, in case a later size runs out of time.
      mkdirSync(resolve(values.out!), { recursive: true });
      writeFileSync(join(resolve(values.out!), 'partial.json'), `${JSON.stringify({ machine: info, runs, results }, null, 2)}\n`);
    }
  }
  let packets: PacketResult | undefined;
  if (!values['no-packet']) packets = await measurePackets(Math.max(...sizes), { log, runs: Number(values['packet-runs']), durationMs: Number(values['packet-seconds']) * 1000 });

  const rows: Row[] = results.flatMap((r) => rowsFor(r));
  const agentRows: Row[] = results.filter((r) => r.prefixes === 100_000).flatMap((r) => rowsFor(r, AGENT_ROWS));
  let text = `flockguard benchmark — ${new Date().toISOString()} — ${info.nproc} CPUs, ${info.memory}, kernel ${info.kernel}, ${info.nft}, node ${info.node}\n`;
  text += `runs: ${runs} (median), slow figures at >= 500,000 prefixes: ${slowRunsAtMillion}\n\n`;
  text += textTable(rows);
  if (agentRows.length) text += `\nagent issue (100,000 prefixes, 1,000 rules):\n${textTable(agentRows)}`;
  if (packets) text += `\n${packets.text}`;
  process.stdout.write(text);

  const out = resolve(values.out!);
  mkdirSync(out, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const json = { date: new Date().toISOString(), machine: info, runs, slowRunsAtMillion, sizes, rows, agentRows, packets, raw: results };
  const jsonPath = join(out, `bench-${stamp}.json`);
  writeFileSync(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(join(out, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
  let md = `Machine: ${info.nproc} CPUs (${info.cpu}), ${info.memory}, kernel ${info.kernel}, ${info.nft}, node ${info.node}. `;
  md += `Median of ${runs}; nft -j list, nft add/delete element and our read-back once at >= 500,000 prefixes.\n\n${markdownTable(rows)}`;
  if (agentRows.length) md += `\nAgent issue (100,000 prefixes, 1,000 rules):\n\n${markdownTable(agentRows)}`;
  if (packets) md += `\n${packets.markdown}`;
  writeFileSync(join(out, 'latest.md'), md);
  log(`results: ${jsonPath} (and ${join(out, 'latest.json')}, latest.md)`);
}

if (process.env[MARK] !== '1') {
  const r = spawnSync('unshare', ['-n', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [MARK]: '1' },
  });
  if (r.error) {
    process.stderr.write(`bench: cannot create a private network namespace: ${r.error.message}\n`);
    process.exit(1);
  }
  process.exit(r.status ?? 1);
} else {
  main().catch((err: Error) => {
    process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
