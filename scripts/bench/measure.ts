// One size of the suite: our figures (agent + CLI), the kernel's floor and the nft peers, side by
// side in one namespace. Every figure keeps its raw samples; the report takes medians and ratios.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compile } from '../../src/compiler';
import { NftClient } from '../../src/kernel/client';
import { NftMonitor, type GenerationEvent } from '../../src/kernel/monitor';
import { elementsToRanges } from '../../src/nftables/intervals';
import type { SetElement } from '../../src/nftables/model';
import { parsePolicyText } from '../../src/policy/parse';
import { diff, planToTransaction } from '../../src/reconciler';
import {
  CHANGED_PREFIX, NETSET_PREFIX, NFT_ELEMENT_PREFIX, NODE_NAME, SET_NAME, intervalSetName, netsFor, nftReloadText, nftTextFor,
  policyText, prefix, storePrefix,
} from './fixtures';
import { AgentProcess, BenchError, cli, cpuMs, memoryMiB, nft, runTimed } from './proc';

export const RULES = 1000;

/** Raw samples in ms (or MiB, %, bytes where the key says so); `blocked` says why a figure is missing. */
export interface SizeResult {
  prefixes: number;
  samples: Record<string, number[]>;
  blocked: Record<string, string>;
  checks: Record<string, string | boolean | number>;
}

export interface SizeOptions {
  runs: number;
  /** Runs of figures that take minutes at this size (nft list, nft add element, full dumps). */
  slowRuns: number;
  idleSeconds: number;
  template: string;
  log: (line: string) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function cidrOfRange([lo, hi]: [Buffer, Buffer]): string {
  const a = lo.readUInt32BE(0);
  const size = hi.readUInt32BE(0) - a + 1;
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/${32 - Math.log2(size)}`;
}

function elementsOf(g: GenerationEvent, op: 'new' | 'delete'): SetElement[] {
  return g.events.filter((e) => e.kind === 'element' && e.op === op).flatMap((e) => (e.object as { elements: SetElement[] }).elements);
}

class SizeRun {
  readonly r: SizeResult;
  private readonly dir = mkdtempSync(join(tmpdir(), 'fg-bench-'));
  private agent: AgentProcess | undefined;
  private readonly client = NftClient.open({ sendBufferSize: 64 << 20, recvBufferSize: 8 << 20 });

  constructor(readonly prefixes: number, readonly o: SizeOptions) {
    this.r = { prefixes, samples: {}, blocked: {}, checks: {} };
  }

  private add(key: string, v: number): void {
    (this.r.samples[key] ??= []).push(v);
  }

  private file(name: string, text: string): string {
    const f = join(this.dir, name);
    writeFileSync(f, text);
    return f;
  }

  /** Runs fn, recording a BenchError (or any error) as the reason `keys` are missing. */
  private async attempt(keys: string[], fn: () => Promise<void> | void): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (err) {
      const a = this.agent;
      const agentState = a ? ` [agent ${a.child.exitCode !== null || a.child.signalCode !== null ? `exited ${a.child.exitCode ?? a.child.signalCode}` : 'running'}; log: ${a.tail().slice(-300)}]` : '';
      const msg = (err as Error).message + agentState;
      const reason = /NFT_BATCH_TOO_LARGE|does not fit the socket send buffer/.test(msg) ? `blocked: batch too large (${msg.slice(0, 160)})` : msg.slice(0, 400);
      for (const k of keys) this.r.blocked[k] ??= reason;
      this.o.log(`  ${keys.join(', ')}: ${reason}`);
      return false;
    }
  }

  private async freshAgent(): Promise<AgentProcess> {
    await this.agent?.stop();
    this.agent = undefined;
    nft(['flush', 'ruleset']);
    for (const f of ['agent.db', 'agent.db-wal', 'agent.db-shm']) rmSync(join(this.dir, f), { force: true });
    this.agent = await AgentProcess.start(this.dir, { nodeName: NODE_NAME });
    return this.agent;
  }

  private status(): { lastCommitDurationMs?: number; inSync: boolean; lastRepairs: Array<{ description: string }>; driftRepairs: number } {
    return JSON.parse(cli(['status', '-o', 'json'], this.agent!.socket).stdout) as ReturnType<SizeRun['status']>;
  }

  async ours(): Promise<void> {
    const original = this.file('policy.json', policyText({ prefixes: this.prefixes, rules: RULES }));
    const changed = this.file('policy-changed.json', policyText({ prefixes: this.prefixes, rules: RULES, changed: true }));
    const { runs, slowRuns } = this.o;
    // (a) full apply, CLI to committed kernel state, into a fresh agent each time.
    const applied = await this.attempt(['a.ours'], async () => {
      for (let i = 0; i < runs; i++) {
        const agent = await this.freshAgent();
        await sleep(200);
        const cpu0 = cpuMs(agent.pid);
        this.add('a.ours', cli(['apply', '-f', original], agent.socket).ms);
        this.add('a.agentCpu', cpuMs(agent.pid) - cpu0);
        this.add('a.reconciler', this.status().lastCommitDurationMs ?? NaN);
        this.o.log(`  (a) full apply ${this.r.samples['a.ours']!.at(-1)!.toFixed(0)} ms`);
      }
    });
    if (!applied) {
      for (const k of ['b.ours', 'c.add', 'c.remove', 'd.ours', 'e.ours', 'g.rssMiB', 'g.storeBytes']) this.r.blocked[k] ??= this.r.blocked['a.ours']!;
      await this.agent?.stop();
      return;
    }
    const agent = this.agent!;
    const rssAfter = (phase: string): void => {
      const m = memoryMiB(agent.pid);
      this.r.checks[`g.rssAfter.${phase}`] = `${m.rss.toFixed(0)} MiB (peak so far ${m.peak.toFixed(0)} MiB)`;
    };
    rssAfter('a');
    // (b) the same manifest with one prefix changed, then back: the monitor must see one prefix out, one in.
    await this.attempt(['b.ours'], async () => {
      for (let i = 0; i < runs; i++) {
        const toChanged = i % 2 === 0;
        const events: GenerationEvent[] = [];
        const monitor = NftMonitor.open();
        monitor.on('generation', (g) => {
          if (g.pid === agent.pid) events.push(g);
        });
        try {
          this.add('b.ours', cli(['apply', '-f', toChanged ? changed : original], agent.socket).ms);
          const deadline = performance.now() + 3000;
          while (events.length === 0 && performance.now() < deadline) await sleep(5);
          await sleep(50);
        } finally {
          monitor.close();
        }
        const removed = events.flatMap((g) => elementsOf(g, 'delete'));
        const added = events.flatMap((g) => elementsOf(g, 'new'));
        const other = events.flatMap((g) => g.events).filter((e) => e.kind !== 'element').length;
        const out = elementsToRanges(removed).map(cidrOfRange);
        const inn = elementsToRanges(added).map(cidrOfRange);
        const [wantOut, wantIn] = toChanged ? [prefix(0), CHANGED_PREFIX] : [CHANGED_PREFIX, prefix(0)];
        const ok = events.length === 1 && other === 0 && out.length === 1 && inn.length === 1 && out[0] === wantOut && inn[0] === wantIn;
        this.r.checks[`b.monitor.run${i}`] =
          `${events.length} commit(s); prefixes out [${out.join(' ')}] in [${inn.join(' ')}]; kernel elements -${removed.length} +${added.length}; other events ${other}`;
        this.r.checks['b.exactlyOneOutOneIn'] = (this.r.checks['b.exactlyOneOutOneIn'] ?? true) === true && ok;
        this.add('b.reconciler', this.status().lastCommitDurationMs ?? NaN);
        this.o.log(`  (b) re-push ${this.r.samples['b.ours']!.at(-1)!.toFixed(0)} ms; ${this.r.checks[`b.monitor.run${i}`]}`);
      }
      if (runs % 2 === 1) cli(['apply', '-f', original], agent.socket);
    });
    rssAfter('b');
    // (c) set membership through the CLI.
    await this.attempt(['c.add', 'c.remove'], () => {
      for (let i = 0; i < runs; i++) {
        this.add('c.add', cli(['netset', 'add', SET_NAME, NETSET_PREFIX], agent.socket).ms);
        this.add('c.addReconciler', this.status().lastCommitDurationMs ?? NaN);
        this.add('c.remove', cli(['netset', 'remove', SET_NAME, NETSET_PREFIX], agent.socket).ms);
        this.add('c.removeReconciler', this.status().lastCommitDurationMs ?? NaN);
      }
      this.o.log(`  (c) netset add ${this.r.samples['c.add']!.map((x) => x.toFixed(0)).join('/')} remove ${this.r.samples['c.remove']!.map((x) => x.toFixed(0)).join('/')} ms`);
    });
    rssAfter('c');
    // (g) memory and idle CPU.
    await this.attempt(['g.rssMiB', 'g.idleCpuPct'], async () => {
      await sleep(1000);
      const c0 = cpuMs(agent.pid);
      const t0 = performance.now();
      await sleep(this.o.idleSeconds * 1000);
      this.add('g.idleCpuPct', ((cpuMs(agent.pid) - c0) / (performance.now() - t0)) * 100);
      const m = memoryMiB(agent.pid);
      this.add('g.rssMiB', m.rss);
      this.add('g.peakRssMiB', m.peak);
      this.o.log(`  (g) RSS ${m.rss.toFixed(0)} MiB (peak ${m.peak.toFixed(0)}), idle CPU ${this.r.samples['g.idleCpuPct']![0]!.toFixed(2)} %`);
    });
    // (d) read-back: dump and decode our table.
    await this.attempt(['d.ours'], async () => {
      for (let i = 0; i < slowRuns; i++) {
        const t0 = performance.now();
        const { ruleset } = await this.client.dumpTable('inet', 'flockguard');
        this.add('d.ours', performance.now() - t0);
        const set = ruleset?.sets.find((s) => (s.flags & 0x4) !== 0 && (s.elements?.length ?? 0) > 0);
        this.r.checks['d.prefixesReadBack'] = set ? elementsToRanges(set.elements ?? []).length : 0;
        this.o.log(`  (d) read-back ${this.r.samples['d.ours']!.at(-1)!.toFixed(0)} ms, ${this.r.checks['d.prefixesReadBack']} prefixes`);
      }
    });
    rssAfter('d');
    // (e) drift repair after `nft delete table inet flockguard`, timed from outside.
    await this.attempt(['e.ours'], async () => {
      for (let i = 0; i < runs; i++) {
        this.add('e.ours', await this.driftOnce(agent));
        const st = this.status();
        const agentMs = Number(/repaired in ([\d.]+) ms/.exec(st.lastRepairs.at(-1)?.description ?? '')?.[1]);
        this.add('e.agentMeasured', agentMs);
        this.r.checks['e.inSyncAfter'] = st.inSync && nft(['list', 'tables']).stdout.includes('inet flockguard');
        this.o.log(`  (e) drift repaired ${this.r.samples['e.ours']!.at(-1)!.toFixed(0)} ms (agent says ${agentMs} ms)`);
      }
    });
    rssAfter('e');
    // (g) store size after 20 revisions that each change one prefix.
    await this.attempt(['g.storeBytes'], () => {
      for (let k = 0; k < 20; k++) this.add('g.revisionMs', cli(['netset', 'add', SET_NAME, storePrefix(k)], agent.socket).ms);
      const size = (f: string): number => {
        try {
          return statSync(join(this.dir, f)).size;
        } catch {
          return 0;
        }
      };
      this.add('g.storeBytes', size('agent.db') + size('agent.db-wal') + size('agent.db-shm'));
      this.r.checks['g.storeFiles'] = `db ${size('agent.db')} B, wal ${size('agent.db-wal')} B, shm ${size('agent.db-shm')} B`;
      this.o.log(`  (g) store after 20 revisions: ${this.r.checks['g.storeFiles']}`);
    });
    rssAfter('store');
    await agent.stop();
    this.agent = undefined;
  }

  /** ms from starting `nft delete table` until the agent's repair commit (the generation after the delete's). */
  private async driftOnce(agent: AgentProcess): Promise<number> {
    const before = (await this.client.getGeneration()).id;
    const t0 = performance.now();
    const child = spawn('nft', ['delete', 'table', 'inet', 'flockguard'], { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const deadline = t0 + 300_000;
    for (;;) {
      const g = await this.client.getGeneration();
      if (g.id >= before + 2) break;
      if (performance.now() > deadline) throw new BenchError('BENCH_TIMEOUT', 'drift: no repair in 300 s');
      if (agent.child.exitCode !== null) throw new BenchError('BENCH_AGENT_EXITED', `drift: the agent exited: ${agent.tail()}`);
      await new Promise((r) => setImmediate(r));
    }
    const ms = performance.now() - t0;
    if ((await exited) !== 0) throw new BenchError('BENCH_COMMAND_FAILED', 'drift: nft delete table failed');
    return ms;
  }

  /** (f) the kernel's floor: the sendmsg of our own batch for this policy, into an empty namespace. */
  async floor(): Promise<void> {
    const text = policyText({ prefixes: this.prefixes, rules: RULES });
    await this.attempt(['f.sendmsg'], async () => {
      const { resources, issues } = parsePolicyText(text, { file: 'policy.json' });
      if (issues.length > 0) throw new BenchError('BENCH_POLICY', `policy issues: ${issues.length}`);
      const desired = compile(resources, NODE_NAME, { priority: -150 });
      for (let i = 0; i < this.o.runs; i++) {
        nft(['flush', 'ruleset']);
        const tx = planToTransaction(diff(desired, undefined));
        const t0 = performance.now();
        const res = await this.client.commit(tx);
        this.add('f.commit', performance.now() - t0);
        this.add('f.sendmsg', res.sendMs);
      }
      this.o.log(`  (f) batch sendmsg ${this.r.samples['f.sendmsg']!.map((x) => x.toFixed(0)).join('/')} ms`);
    });
    nft(['flush', 'ruleset']);
  }

  /** The nft peers, on the equivalent table as text. */
  async peers(): Promise<void> {
    const nets = netsFor({ prefixes: this.prefixes, rules: RULES });
    const text = nftTextFor(this.o.template, nets);
    const setName = intervalSetName(this.o.template);
    const file = this.file('table.nft', text);
    const changedNets = netsFor({ prefixes: this.prefixes, rules: RULES, changed: true });
    const reloadChanged = this.file('reload-changed.nft', nftReloadText(nftTextFor(this.o.template, changedNets)));
    const reloadOriginal = this.file('reload.nft', nftReloadText(text));
    const { runs, slowRuns } = this.o;
    await this.attempt(['a.nft'], () => {
      for (let i = 0; i < runs; i++) {
        nft(['flush', 'ruleset']);
        this.add('a.nft', nft(['-f', file]).ms);
      }
      this.o.log(`  nft -f ${this.r.samples['a.nft']!.map((x) => x.toFixed(0)).join('/')} ms`);
    });
    await this.attempt(['f.nftSendmsg'], () => {
      for (let i = 0; i < slowRuns; i++) {
        nft(['flush', 'ruleset']);
        // strace -T: time inside each syscall; nft sends the whole batch in one sendmsg (mnl.c).
        const out = runTimed(['strace', '-f', '-T', '-e', 'trace=sendmsg', 'nft', '-f', file], { timeoutMs: 600_000, stderrToo: true }).stdout;
        const times = [...out.matchAll(/sendmsg\(.*<([\d.]+)>$/gm)].map((m) => Number(m[1]) * 1000);
        if (times.length === 0) throw new BenchError('BENCH_STRACE', 'strace saw no sendmsg of nft');
        this.add('f.nftSendmsg', Math.max(...times));
      }
      this.o.log(`  nft's batch sendmsg (strace -T) ${this.r.samples['f.nftSendmsg']!.map((x) => x.toFixed(0)).join('/')} ms`);
    });
    await this.attempt(['b.nft'], () => {
      for (let i = 0; i < runs; i++) this.add('b.nft', nft(['-f', i % 2 === 0 ? reloadChanged : reloadOriginal]).ms);
      if (runs % 2 === 1) nft(['-f', reloadOriginal]);
      this.o.log(`  nft -f full reload ${this.r.samples['b.nft']!.map((x) => x.toFixed(0)).join('/')} ms`);
    });
    await this.attempt(['d.nft'], () => {
      for (let i = 0; i < slowRuns; i++) this.add('d.nft', nft(['-j', 'list', 'table', 'inet', 'flockguard'], 600_000).ms);
      this.o.log(`  nft -j list table ${this.r.samples['d.nft']!.map((x) => x.toFixed(0)).join('/')} ms`);
    });
    await this.attempt(['c.nftAdd', 'c.nftDelete'], () => {
      for (let i = 0; i < slowRuns; i++) {
        this.add('c.nftAdd', nft(['add', 'element', 'inet', 'flockguard', setName, `{ ${NFT_ELEMENT_PREFIX} }`], 600_000).ms);
        this.add('c.nftDelete', nft(['delete', 'element', 'inet', 'flockguard', setName, `{ ${NFT_ELEMENT_PREFIX} }`], 600_000).ms);
      }
      this.o.log(`  nft add/delete element ${this.r.samples['c.nftAdd']!.map((x) => x.toFixed(0)).join('/')} / ${this.r.samples['c.nftDelete']!.map((x) => x.toFixed(0)).join('/')} ms`);
    });
    nft(['flush', 'ruleset']);
  }

  /** nft -f of the equivalent text lists exactly as our own table (skipped where nft list takes minutes). */
  async checkEquivalence(): Promise<void> {
    await this.attempt(['equivalence'], async () => {
      const nets = netsFor({ prefixes: this.prefixes, rules: RULES });
      const agent = await this.freshAgent();
      cli(['apply', '-f', this.file('policy.json', policyText({ prefixes: this.prefixes, rules: RULES }))], agent.socket);
      await agent.stop();
      this.agent = undefined;
      const ours = nft(['list', 'table', 'inet', 'flockguard']).stdout;
      nft(['flush', 'ruleset']);
      nft(['-f', this.file('table.nft', nftTextFor(this.o.template, nets))]);
      const theirs = nft(['list', 'table', 'inet', 'flockguard']).stdout;
      this.r.checks.nftTextListsAsOurTable = ours === theirs;
      nft(['flush', 'ruleset']);
    });
  }

  async close(): Promise<void> {
    await this.agent?.stop();
    this.client.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The template for the nft peer: `nft list table` of our table installed for a small set. */
export async function ourTableTemplate(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-tpl-'));
  const agent = await AgentProcess.start(dir, { nodeName: NODE_NAME });
  try {
    nft(['flush', 'ruleset']);
    const f = join(dir, 'policy.json');
    writeFileSync(f, policyText({ prefixes: 1000, rules: RULES }));
    cli(['apply', '-f', f], agent.socket);
    return nft(['list', 'table', 'inet', 'flockguard']).stdout;
  } finally {
    await agent.stop();
    nft(['flush', 'ruleset']);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function measureSize(prefixes: number, o: SizeOptions, equivalenceUpTo: number): Promise<SizeResult> {
  const run = new SizeRun(prefixes, o);
  try {
    if (prefixes <= equivalenceUpTo) await run.checkEquivalence();
    await run.ours();
    await run.floor();
    await run.peers();
    return run.r;
  } finally {
    await run.close();
  }
}
