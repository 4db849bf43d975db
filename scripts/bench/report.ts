// The suite's table: every figure next to its peer from the same run, the ratio, and the issue's
// target for it (met / missed), as text for the terminal and as Markdown for docs/benchmarks.md.
import { median } from './proc';
import type { SizeResult } from './measure';

interface Target {
  text: string;
  met(ours: number, ratio: number | undefined): boolean;
}

interface RowSpec {
  figure: string;
  ours: string;
  oursLabel: string;
  peer?: string;
  peerLabel?: string;
  unit: 'ms' | 'MiB' | '%' | 'MB';
  target?: (prefixes: number) => Target | undefined;
}

const ratioAtMost = (x: number, extra = ''): Target => ({ text: `ratio <= ${x}${extra}`, met: (_o, r) => r !== undefined && r <= x });
const below = (x: number, unit: string): Target => ({ text: `< ${x} ${unit}`, met: (o) => o < x });
const atMost = (x: number, unit: string): Target => ({ text: `<= ${x} ${unit}`, met: (o) => o <= x });

export const ROWS: RowSpec[] = [
  { figure: '(a) full apply', ours: 'a.ours', oursLabel: 'flockguard apply -f (CLI to committed)', peer: 'a.nft', peerLabel: 'nft -f', unit: 'ms',
    target: (n) => (n === 100_000 ? ratioAtMost(0.35) : n === 1_000_000 ? ratioAtMost(0.25) : undefined) },
  { figure: '(a) full apply, agent side', ours: 'a.reconciler', oursLabel: 'reconciler diff+encode+commit', peer: 'a.nft', peerLabel: 'nft -f', unit: 'ms' },
  { figure: '(b) re-push, one prefix changed', ours: 'b.ours', oursLabel: 'flockguard apply -f (CLI)', peer: 'b.nft', peerLabel: 'nft -f full reload', unit: 'ms',
    target: () => ratioAtMost(0.35, ', monitor: 1 out, 1 in') },
  { figure: '(b) re-push, agent side', ours: 'b.reconciler', oursLabel: 'reconciler diff+commit', peer: 'b.nft', peerLabel: 'nft -f full reload', unit: 'ms' },
  { figure: '(c) set membership add', ours: 'c.add', oursLabel: 'flockguard netset add', peer: 'c.nftAdd', peerLabel: 'nft add element', unit: 'ms',
    target: (n) => (n === 1_000_000 ? below(50, 'ms') : undefined) },
  { figure: '(c) set membership remove', ours: 'c.remove', oursLabel: 'flockguard netset remove', peer: 'c.nftDelete', peerLabel: 'nft delete element', unit: 'ms',
    target: (n) => (n === 1_000_000 ? below(50, 'ms') : undefined) },
  { figure: '(c) add, agent side', ours: 'c.addReconciler', oursLabel: 'reconciler diff+commit', peer: 'c.nftAdd', peerLabel: 'nft add element', unit: 'ms' },
  { figure: '(d) read-back', ours: 'd.ours', oursLabel: 'NftClient.dumpTable (dump+decode)', peer: 'd.nft', peerLabel: 'nft -j list table', unit: 'ms',
    target: (n) => (n === 1_000_000 ? ratioAtMost(0.1) : undefined) },
  { figure: '(e) drift repair', ours: 'e.ours', oursLabel: 'nft delete table -> repaired', peer: 'a.ours', peerLabel: 'our full apply (a)', unit: 'ms',
    target: (n) => (n === 1_000_000 ? ratioAtMost(1.5) : undefined) },
  { figure: '(e) drift repair vs nft', ours: 'e.ours', oursLabel: 'nft delete table -> repaired', peer: 'a.nft', peerLabel: 'nft -f', unit: 'ms' },
  { figure: '(f) kernel floor', ours: 'f.sendmsg', oursLabel: 'sendmsg of our batch', peer: 'f.nftSendmsg', peerLabel: "sendmsg of nft's batch (strace -T)", unit: 'ms' },
  { figure: '(f) kernel floor vs nft -f', ours: 'f.sendmsg', oursLabel: 'sendmsg of our batch', peer: 'a.nft', peerLabel: 'nft -f', unit: 'ms' },
  { figure: '(f) our apply over the floor', ours: 'a.ours', oursLabel: 'flockguard apply -f', peer: 'f.sendmsg', peerLabel: 'sendmsg of our batch', unit: 'ms' },
  { figure: '(g) agent RSS', ours: 'g.rssMiB', oursLabel: 'VmRSS after apply, idle', unit: 'MiB', target: (n) => (n === 1_000_000 ? atMost(600, 'MiB') : undefined) },
  { figure: '(g) agent peak RSS', ours: 'g.peakRssMiB', oursLabel: 'VmHWM', unit: 'MiB' },
  { figure: '(g) agent idle CPU', ours: 'g.idleCpuPct', oursLabel: 'utime+stime / wall, idle', unit: '%', target: () => atMost(1, '% (near zero)') },
  { figure: '(g) store after 20 revisions', ours: 'g.storeMB', oursLabel: 'db + wal + shm', unit: 'MB' },
];

/** The agent issue's targets (100,000 prefixes, 1,000 rules), against nft -f of the same table. */
export const AGENT_ROWS: RowSpec[] = [
  { figure: 'agent: full apply', ours: 'a.ours', oursLabel: 'flockguard apply -f', peer: 'a.nft', peerLabel: 'nft -f', unit: 'ms', target: () => ratioAtMost(1.0) },
  { figure: 'agent: one-prefix change', ours: 'b.ours', oursLabel: 'flockguard apply -f, one prefix changed', peer: 'a.nft', peerLabel: 'nft -f', unit: 'ms', target: () => ratioAtMost(0.02) },
  { figure: 'agent: drift repair', ours: 'e.ours', oursLabel: 'nft delete table -> repaired', peer: 'a.nft', peerLabel: 'nft -f', unit: 'ms', target: () => below(100, 'ms median') },
];

export interface Row {
  prefixes: number;
  figure: string;
  ours: string;
  oursMedian?: number;
  oursSamples: number[];
  peer?: string;
  peerMedian?: number;
  peerSamples: number[];
  unit: string;
  ratio?: number;
  target?: string;
  verdict: 'met' | 'MISSED' | 'blocked' | '';
  note?: string;
}

function samplesOf(r: SizeResult, key: string): number[] {
  if (key === 'g.storeMB') return (r.samples['g.storeBytes'] ?? []).map((b) => b / 1e6);
  return (r.samples[key] ?? []).filter((x) => Number.isFinite(x));
}

export function rowsFor(r: SizeResult, specs: RowSpec[] = ROWS): Row[] {
  return specs.map((s) => {
    const oursSamples = samplesOf(r, s.ours);
    const peerSamples = s.peer ? samplesOf(r, s.peer) : [];
    const oursMedian = oursSamples.length ? median(oursSamples) : undefined;
    const peerMedian = peerSamples.length ? median(peerSamples) : undefined;
    const ratio = oursMedian !== undefined && peerMedian ? oursMedian / peerMedian : undefined;
    const target = s.target?.(r.prefixes);
    const blocked = r.blocked[s.ours === 'g.storeMB' ? 'g.storeBytes' : s.ours] ?? (s.peer ? r.blocked[s.peer] : undefined);
    let verdict: Row['verdict'] = '';
    if (target) {
      if (oursMedian === undefined || (s.peer && peerMedian === undefined && target.text.startsWith('ratio'))) verdict = 'blocked';
      else verdict = target.met(oursMedian, ratio) ? 'met' : 'MISSED';
      if (s.ours === 'b.ours' && s.peer === 'b.nft' && r.checks['b.exactlyOneOutOneIn'] !== true && verdict === 'met') verdict = 'MISSED';
    }
    return {
      prefixes: r.prefixes, figure: s.figure, ours: s.oursLabel, oursMedian, oursSamples, peer: s.peerLabel, peerMedian, peerSamples,
      unit: s.unit, ratio, target: target?.text, verdict, note: blocked,
    };
  });
}

const fmt = (x: number | undefined, unit: string): string => {
  if (x === undefined) return '—';
  if (unit === 'ms') return x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(x < 10 ? 2 : 0)} ms`;
  if (unit === '%') return `${x.toFixed(2)} %`;
  return `${x.toFixed(1)} ${unit}`;
};

const cells = (row: Row): string[] => [
  row.prefixes.toLocaleString('en-US'),
  row.figure,
  `${row.ours}: ${fmt(row.oursMedian, row.unit)}`,
  row.peer ? `${row.peer}: ${fmt(row.peerMedian, row.unit)}` : '',
  row.ratio === undefined ? '' : `${row.ratio.toFixed(3)}x`,
  row.target ?? '',
  row.verdict === 'blocked' || (row.oursMedian === undefined && row.note) ? `blocked: ${(row.note ?? '').slice(0, 60)}` : row.verdict,
];

const HEAD = ['prefixes', 'figure', 'ours (median)', 'peer (median, same run)', 'ratio', 'target', 'verdict'];

export function textTable(rows: Row[]): string {
  const all = [HEAD, ...rows.map(cells)];
  const widths = HEAD.map((_, i) => Math.min(60, Math.max(...all.map((r) => r[i]!.length))));
  return all.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

export function markdownTable(rows: Row[]): string {
  const line = (c: string[]): string => `| ${c.map((x) => x.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(HEAD), line(HEAD.map(() => '---')), ...rows.map((r) => line(cells(r)))].join('\n') + '\n';
}
