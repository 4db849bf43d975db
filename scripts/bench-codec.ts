// Benchmark: our nf_tables codec and kernel client against the nft binary, side by side in one run.
//
//   node dist/scripts/bench-codec.js [--prefixes 100000] [--rules 1000] [--runs 3] [--json FILE (default: $TMPDIR/flockguard-bench-codec.json)]
//
// It re-executes itself under `unshare -n`: every measurement happens in a network namespace of its
// own, which the kernel removes when the run ends (the host's ruleset is never touched). One table
// `inet fgbench`: a prerouting -150 base chain with --rules rules and an interval set of --prefixes
// IPv4 prefixes. Median of --runs, each into an emptied ruleset:
//  - load:  `nft -f` of the table as text  vs  Transaction build + NftClient.commit (and its sendmsg);
//  - read:  `nft -j list ruleset` (and `nft list ruleset`)  vs  NftClient.dumpTable into the model.
// Ratios are ours / nft's (below 1: we are faster). The results also go to a JSON file.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { NftClient, Transaction } from '../src/kernel';
import { elementsToRanges, rangesToElements } from '../src/nftables';
import { Chain, Expr, NftSet, Rule, Table } from '../src/nftables/model';

const MARK = 'FLOCKGUARD_BENCH_NETNS';
const F = 'inet' as const;
const T = 'fgbench';

/** Every other /24 from 1.0.0.0 up: no two adjacent, none overlapping. */
function prefixBase(i: number): number {
  return (0x01000000 + 2 * i * 256) >>> 0;
}

function dotted(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function nftText(prefixes: number, rules: number): string {
  const lines = [`table inet ${T} {`, '\tset nets {', '\t\ttype ipv4_addr', '\t\tflags interval', '\t\telements = {'];
  const els: string[] = [];
  for (let i = 0; i < prefixes; i++) els.push(`${dotted(prefixBase(i))}/24`);
  lines.push(`\t\t\t${els.join(',\n\t\t\t')}`, '\t\t}', '\t}');
  lines.push('\tchain pre {', '\t\ttype filter hook prerouting priority -150; policy accept;');
  lines.push('\t\tip saddr @nets counter drop comment "blocked"');
  for (let i = 1; i < rules; i++) lines.push(`\t\tip saddr ${dotted(0x0a000000 + i)} tcp dport ${1024 + i} counter accept comment "rule ${i}"`);
  lines.push('\t}', '}', '');
  return lines.join('\n');
}

const counter: Expr = { type: 'counter', packets: 0n, bytes: 0n };
const ipv4: Expr[] = [
  { type: 'meta', key: 'nfproto', dreg: 1 },
  { type: 'cmp', sreg: 1, op: 'eq', data: Buffer.from([2]) },
];
const saddr: Expr = { type: 'payload', base: 'network', offset: 12, len: 4, dreg: 1 };

function model(prefixes: number, rules: number): { table: Table; chain: Chain; set: NftSet; ranges: Array<[Buffer, Buffer]>; rules: Rule[] } {
  const ranges: Array<[Buffer, Buffer]> = [];
  for (let i = 0; i < prefixes; i++) ranges.push([u32(prefixBase(i)), u32(prefixBase(i) + 255)]);
  const out: Rule[] = [
    { family: F, table: T, chain: 'pre', comment: 'blocked', exprs: [...ipv4, saddr, { type: 'lookup', set: 'nets', sreg: 1 }, counter, { type: 'immediate', dreg: 0, verdict: { kind: 'drop' } }] },
  ];
  for (let i = 1; i < rules; i++) {
    const port = Buffer.from([(1024 + i) >> 8, (1024 + i) & 255]);
    out.push({
      family: F,
      table: T,
      chain: 'pre',
      comment: `rule ${i}`,
      exprs: [
        ...ipv4,
        saddr,
        { type: 'cmp', sreg: 1, op: 'eq', data: u32(0x0a000000 + i) },
        { type: 'meta', key: 'l4proto', dreg: 1 },
        { type: 'cmp', sreg: 1, op: 'eq', data: Buffer.from([6]) },
        { type: 'payload', base: 'transport', offset: 2, len: 2, dreg: 1 },
        { type: 'cmp', sreg: 1, op: 'eq', data: port },
        counter,
        { type: 'immediate', dreg: 0, verdict: { kind: 'accept' } },
      ],
    });
  }
  return {
    table: { family: F, name: T },
    chain: { family: F, table: T, name: 'pre', base: { type: 'filter', hook: 'prerouting', priority: -150, policy: 'accept' } },
    set: { family: F, table: T, name: 'nets', flags: 0x4, keyType: 7, keyLen: 4, keyByteOrder: 'big' },
    ranges,
    rules: out,
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const nft = (args: string[]): string => execFileSync('nft', args, { encoding: 'utf8', maxBuffer: 1 << 30 });

function timed<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const v = fn();
  return [v, performance.now() - t0];
}

async function timedAsync<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, performance.now() - t0];
}

interface Sample {
  nftLoad: number;
  nftJsonList: number;
  nftList: number;
  ourBuild: number;
  ourCommit: number;
  ourSendmsg: number;
  ourLoad: number;
  ourDump: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      prefixes: { type: 'string', default: '100000' },
      rules: { type: 'string', default: '1000' },
      runs: { type: 'string', default: '3' },
      json: { type: 'string', default: join(tmpdir(), 'flockguard-bench-codec.json') },
    },
  });
  const prefixes = Number(values.prefixes);
  const rules = Number(values.rules);
  const runs = Number(values.runs);
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-codec-'));
  const file = join(dir, 'table.nft');
  writeFileSync(file, nftText(prefixes, rules));
  const m = model(prefixes, rules);
  const client = NftClient.open();
  const samples: Sample[] = [];
  let identical = true;
  try {
    for (let run = 0; run < runs; run++) {
      nft(['flush', 'ruleset']);
      const [, nftLoad] = timed(() => nft(['-f', file]));
      const [nftTextOut, nftList] = timed(() => nft(['list', 'ruleset']));
      const [, nftJsonList] = timed(() => nft(['-j', 'list', 'ruleset']));
      nft(['flush', 'ruleset']);
      const [tx, ourBuild] = timed(() => {
        const t = new Transaction(8 << 20);
        t.addTable(m.table).addChain(m.chain).addSet({ ...m.set, elements: rangesToElements(m.ranges, { fresh: true }) });
        for (const r of m.rules) t.addRule(r);
        return t;
      });
      const [result, ourCommit] = await timedAsync(() => client.commit(tx));
      const [dump, ourDump] = await timedAsync(() => client.dumpTable(F, T));
      samples.push({ nftLoad, nftJsonList, nftList, ourBuild, ourCommit, ourSendmsg: result.sendMs, ourLoad: ourBuild + ourCommit, ourDump });
      // Same table both ways: nft prints ours as it printed its own, and our read-back is complete.
      const got = dump.ruleset!;
      const ranges = elementsToRanges(got.sets[0].elements ?? []);
      if (run === 0) identical = nft(['list', 'ruleset']) === nftTextOut;
      if (ranges.length !== prefixes || (got.rules.get('pre') ?? []).length !== rules) throw new Error('read-back incomplete');
    }
  } finally {
    client.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const med = Object.fromEntries(Object.keys(samples[0]).map((k) => [k, median(samples.map((s) => s[k as keyof Sample]))])) as unknown as Sample;
  const rows: Array<[string, number, string, number]> = [
    ['load: ours (build + commit)', med.ourLoad, 'nft -f', med.nftLoad],
    ['load: ours, commit only', med.ourCommit, 'nft -f', med.nftLoad],
    ['load: ours, batch sendmsg (kernel)', med.ourSendmsg, 'nft -f', med.nftLoad],
    ['read: ours dumpTable', med.ourDump, 'nft -j list ruleset', med.nftJsonList],
    ['read: ours dumpTable', med.ourDump, 'nft list ruleset', med.nftList],
  ];
  const pad = (s: string, n: number) => s.padEnd(n);
  process.stdout.write(`table inet ${T}: ${rules} rules, interval set of ${prefixes} IPv4 prefixes; median of ${runs}\n`);
  process.stdout.write(`${pad('ours', 36)}${pad('ms', 10)}${pad('nft', 22)}${pad('ms', 10)}ratio (ours/nft)\n`);
  for (const [a, x, b, y] of rows) {
    process.stdout.write(`${pad(a, 36)}${pad(x.toFixed(1), 10)}${pad(b, 22)}${pad(y.toFixed(1), 10)}${(x / y).toFixed(3)}\n`);
  }
  process.stdout.write(`nft list of our commit identical to nft list of nft -f: ${identical}\n`);
  const json = {
    date: new Date().toISOString(),
    kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
    nft: nft(['--version']).trim(),
    node: process.version,
    prefixes,
    rules,
    runs,
    medianMs: med,
    ratios: Object.fromEntries(rows.map(([a, x, b, y]) => [`${a} / ${b}`, x / y])),
    identicalListing: identical,
    samples,
  };
  writeFileSync(values.json as string, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`results written to ${values.json}\n`);
}

if (process.env[MARK] !== '1') {
  const r = spawnSync('unshare', ['-n', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [MARK]: '1' },
  });
  if (r.error) {
    process.stderr.write(`bench-codec: cannot create a private network namespace: ${r.error.message}\n`);
    process.exit(1);
  }
  process.exit(r.status ?? 1);
} else {
  main().catch((err: Error) => {
    process.stderr.write(`bench-codec: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
