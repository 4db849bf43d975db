// The reconcile loop: desired ruleset -> our table in the kernel, in one atomic batch per change.
//
// - Only our table is ever read or written (dumpTable of `family name`); other tables are not ours.
// - Each commit carries the generation our view of the table is valid at (NFNL_BATCH_GENID,
//   nftables-netlink.md 1.7): if anyone committed in between, the kernel refuses the batch
//   (NFT_GENERATION_CHANGED) and we retry a bounded number of times. When the monitor saw every
//   generation in between and none touched our table (kube-proxy, Docker...), the retry reuses the
//   view without reading back.
// - After a commit the committed state is kept in memory; a later small change is diffed against it,
//   so a 1,000,000-prefix set is not read back for a one-prefix change. The table is read back only
//   when the view is unknown: at start, after drift, after a lost monitor event, after a failed commit,
//   and at the periodic resync. Handles of rules our commit inserted come from the monitor's events
//   for that commit (handles.ts); if they do not arrive, the table is read back. Batches of many
//   events go out with the monitor closed (quietCommit), and the table is then read back in the
//   background if they inserted rules.
// - Drift repairs and resyncs run in the background; a failed one is retried with backoff.
// - Drift: an NftMonitor on its own socket (6.1) sees every generation. A generation by another process
//   that touched our table makes the view stale and schedules a repair (debounced a few ms: one
//   `nft -f` or a table deletion arrives as many events). The monitor's 'resync' (a generation gap or
//   events the kernel dropped, see kernel/monitor.ts) means events were lost and the table is read back.
// - The table is never deleted here except by removeTable() (flockguard uninstall).
import { EventEmitter } from 'node:events';
import type { Logger } from 'winston';
import { CommitResult, NftClient } from '../kernel/client';
import { NftError } from '../kernel/errors';
import { NftMonitor } from '../kernel/monitor';
import { Transaction } from '../kernel/transaction';
import { Family, Rule, Ruleset } from '../nftables/model';
import { diff, hasAllHandles } from './diff';
import { PlanSummary, formatSummary } from './plan';
import { learnHandles } from './handles';
import { committedState, sizeOf } from './state';
import { planToTransaction } from './transaction';

/** What the reconciler needs from NftClient (an interface so tests can wrap the real one). */
export type KernelClient = Pick<NftClient, 'getGeneration' | 'dumpTable' | 'commit' | 'close'>;

export interface GenerationEvent {
  id: number;
  pid: number;
  procName: string;
  events: Array<{ op: string; kind: string; family: Family; table: string; object: unknown }>;
}

export interface KernelMonitor {
  on(event: 'generation', fn: (g: GenerationEvent) => void): unknown;
  on(event: 'resync', fn: (reason: string) => void): unknown;
  close(): void;
}

export interface ReconcilerOptions {
  family: Family;
  table: string;
  logger: Logger;
  /** Full read-back and reconcile every so often, whatever the monitor says. 0 disables. Default 5 min. */
  resyncIntervalMs?: number;
  /** Wait this long after a drift event for the rest of the transaction's events. Default 5 ms. */
  debounceMs?: number;
  /** Commits refused for a moved generation are retried this many times. Default 5. */
  maxRetries?: number;
  /** How many drift repairs the status keeps. Default 10. */
  keepRepairs?: number;
  openClient?: () => KernelClient;
  /** Return undefined to run without drift detection (every sync then reads the table back). */
  openMonitor?: () => KernelMonitor | undefined;
  /**
   * Live rules that belong to someone else for a while (a running trace's `meta nftrace set 1`
   * rules): the differ neither removes them nor counts them as drift.
   */
  keepLiveRule?: (r: Rule) => boolean;
}

export interface SyncResult {
  changed: boolean;
  generation: number;
  summary?: PlanSummary;
  durationMs: number;
  /** How many commits the kernel refused because the generation moved. */
  retries: number;
}

export interface DriftRepair {
  time: string;
  /** What the other process did to our table, e.g. "delete table; delete rule x3". */
  what: string;
  pid: number;
  procName: string;
  /** First drift event to repair committed (or found nothing to do). */
  latencyMs: number;
  repaired: string;
}

export interface ReconcilerStatus {
  revision?: number;
  generation?: number;
  inSync: boolean;
  lastCommit?: { time: string; durationMs: number; summary: string; generation: number };
  lastError?: string;
  driftRepairs: number;
  recentRepairs: DriftRepair[];
  warnings: string[];
}

interface PendingDrift {
  since: number;
  what: Map<string, number>;
  pid: number;
  procName: string;
}

/** Our view of the table: the ruleset the kernel holds, valid as of generation `generation`. */
interface View {
  ruleset: Ruleset | undefined;
  generation: number;
  /** When the view is what our own commit made: that commit's generation (its events carry the new rules' handles). */
  committed?: number;
}

/**
 * Commits expected to make more events than this go out with the monitor closed (quietCommit). One
 * event per element, rule and chain.
 */
const QUIET_COMMIT_EVENTS = 4000;

function eventCount(s: PlanSummary): number {
  return s.elementsAdded + s.elementsDeleted + s.rulesAdded + s.rulesReplaced + s.rulesDeleted + s.chainsAdded + s.chainsDeleted + s.setsAdded + s.setsDeleted;
}

export class Reconciler extends EventEmitter {
  private client: KernelClient | undefined;
  private monitor: KernelMonitor | undefined;
  private desired: { ruleset: Ruleset; revision?: number } | undefined;
  private view: View | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private drift: PendingDrift | undefined;
  private driftTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = 1000;
  private stopped = false;
  /** NEWRULE events of our own recent commits, by generation (see handles.ts). */
  private readonly ownRules = new Map<number, Rule[]>();
  /** Recent generations the monitor saw that did not touch our table (ours included). */
  private readonly cleanGenerations = new Set<number>();
  /** The last generation the monitor delivered, and how many times it reported lost events. */
  private lastSeenGeneration: number | undefined;
  /** The generation right after our last quiet commit (see quietCommit). */
  private quietGeneration: number | undefined;
  private lostEvents = 0;
  private readonly st: ReconcilerStatus = { inSync: false, driftRepairs: 0, recentRepairs: [], warnings: [] };

  constructor(private readonly opts: ReconcilerOptions) {
    super();
  }

  private get log(): Logger {
    return this.opts.logger;
  }

  /** Opens the kernel sockets and starts watching for drift. Does not touch the table. */
  start(): void {
    this.client = (this.opts.openClient ?? (() => NftClient.open({ sendBufferSize: 64 << 20, recvBufferSize: 8 << 20 })))();
    this.monitor = this.openMonitor();
    if (!this.monitor) this.warn('drift detection is off: no monitor');
    const every = this.opts.resyncIntervalMs ?? 5 * 60_000;
    if (every > 0) {
      this.resyncTimer = setInterval(() => void this.background('periodic resync', () => this.resync('periodic')), every);
      this.resyncTimer.unref();
    }
  }

  /** A monitor whose events reach this reconciler only while it is the current one. */
  private openMonitor(): KernelMonitor | undefined {
    let mon: KernelMonitor | undefined;
    try {
      mon = (this.opts.openMonitor ?? (() => NftMonitor.open({ recvBufferSize: 16 << 20 })))();
    } catch (err) {
      this.warn(`drift detection is off: cannot open the nf_tables monitor: ${(err as Error).message}`);
      return undefined;
    }
    mon?.on('generation', (g) => {
      if (mon === this.monitor) this.onGeneration(g);
    });
    mon?.on('resync', (reason) => {
      if (mon === this.monitor) this.onLostEvents(reason);
    });
    return mon;
  }

  /**
   * Commits a batch that makes many events with the monitor closed. The kernel builds a commit's
   * events inside our own sendmsg (100,000 prefixes: 2.3 s instead of 0.35 s here), and our monitor
   * cannot drain while they arrive: past its receive buffer they are dropped (NO_ENOBUFS; without the
   * native addon, ENOBUFS, which npm netlink turns into a process abort) and the lost events force a
   * full read-back. With no listener the kernel emits nothing; the monitor is reopened after, and if
   * the generation then is not the one we made, someone committed in the gap: read back.
   */
  private async quietCommit(tx: Transaction, genId: number): Promise<CommitResult> {
    const mon = this.monitor;
    this.monitor = undefined;
    mon?.close();
    try {
      return await this.kernel().commit(tx, { genId });
    } finally {
      if (mon && !this.stopped) {
        this.monitor = this.openMonitor();
        const now = await this.kernel().getGeneration().catch(() => undefined);
        this.quietGeneration = now?.id;
        this.lastSeenGeneration = now?.id;
      }
    }
  }

  /** Closes the sockets. The table stays as it is: a firewall agent fails static. */
  stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.driftTimer);
    clearTimeout(this.retryTimer);
    clearInterval(this.resyncTimer);
    this.monitor?.close();
    this.monitor = undefined;
    return this.serial(async () => {
      this.client?.close();
      this.client = undefined;
    });
  }

  /** Makes `ruleset` the desired state and pushes it; resolves once the kernel holds it. */
  apply(ruleset: Ruleset, revision?: number): Promise<SyncResult> {
    return this.serial(() => {
      this.desired = { ruleset, revision };
      this.st.revision = revision;
      return this.syncNow(revision === undefined ? 'apply' : `revision ${revision}`);
    });
  }

  /** Reads our table back and reconciles it with the desired state. */
  resync(reason: string): Promise<SyncResult | undefined> {
    return this.serial(async () => {
      if (!this.desired) return undefined;
      this.view = undefined;
      return this.syncNow(`resync (${reason})`);
    });
  }

  /**
   * Deletes our table on purpose (`flockguard uninstall`), and stops repairing it. Resolves true if
   * there was a table to delete.
   */
  removeTable(): Promise<boolean> {
    return this.serial(async () => {
      this.stopped = true;
      clearTimeout(this.driftTimer);
      const removed = await removeTable(this.kernel(), this.opts.family, this.opts.table);
      this.view = undefined;
      this.log.info('table removed', { table: `${this.opts.family} ${this.opts.table}`, removed });
      return removed;
    });
  }

  /** Resolves when every reconcile queued so far (background ones included) has finished. */
  idle(): Promise<void> {
    return this.serial(async () => undefined);
  }

  /** Records which revision the desired state (already pushed) is, once the store has numbered it. */
  setRevision(revision: number): void {
    if (this.desired) this.desired.revision = revision;
    this.st.revision = revision;
  }

  /** Our table as the kernel holds it now (counters included); a read-back, so not for hot paths. */
  async readLive(): Promise<Ruleset | undefined> {
    return (await this.kernel().dumpTable(this.opts.family, this.opts.table)).ruleset;
  }

  /** The comment of one of our rules, from the committed view (for trace output). */
  ruleComment(chain: string, handle: bigint | undefined): string | undefined {
    if (handle === undefined) return undefined;
    return this.view?.ruleset?.rules.get(chain)?.find((r) => r.handle === handle)?.comment;
  }

  status(): ReconcilerStatus {
    return { ...this.st, recentRepairs: [...this.st.recentRepairs], warnings: [...this.st.warnings] };
  }

  private kernel(): KernelClient {
    if (!this.client) throw new NftError('NFT_SOCKET', 'the reconciler is not started (or already stopped)');
    return this.client;
  }

  /** Runs `fn` after everything queued before it: one reconcile at a time, applies in order. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private warn(message: string): void {
    this.log.warn(message);
    this.st.warnings.push(message);
    if (this.st.warnings.length > 20) this.st.warnings.shift();
  }

  private async readTable(): Promise<View> {
    const t0 = performance.now();
    const { generation, ruleset } = await this.kernel().dumpTable(this.opts.family, this.opts.table);
    const size = ruleset ? sizeOf(ruleset) : undefined;
    this.log.debug('table read back', { generation, present: ruleset !== undefined, ...size, ms: +(performance.now() - t0).toFixed(1) });
    return { ruleset, generation };
  }

  /**
   * After a quiet commit: reads our chains, rules and set definitions, but not the elements of the
   * sets the view already holds — at the generation that commit made they are exactly the view's —
   * so a million-element set is not dumped (O(n^2) in the kernel) just to learn rule handles. If
   * anyone committed since, the view is dropped and the next sync reads everything.
   */
  private async readHandles(): Promise<void> {
    const v = this.view;
    if (!v?.ruleset || v.committed === undefined || hasAllHandles(v.ruleset)) return;
    const known = new Map(v.ruleset.sets.map((s) => [s.name, s] as const));
    const read = await this.kernel().dumpTable(this.opts.family, this.opts.table, { skipElements: (s) => known.has(s.name) });
    if (this.view !== v) return;
    if (read.generation !== v.committed || !read.ruleset) {
      this.view = undefined;
      return;
    }
    for (const s of read.ruleset.sets) s.elements ??= known.get(s.name)?.elements;
    this.view = { ruleset: read.ruleset, generation: read.generation, committed: v.committed };
  }

  /** The view to diff against: the one in memory if it is valid and has every handle, else a read-back. */
  private async currentView(): Promise<View> {
    const v = this.view;
    if (v && this.monitor && (!v.ruleset || hasAllHandles(v.ruleset) || (await this.awaitOwnHandles(v)))) return v;
    this.view = await this.readTable();
    return this.view;
  }

  /**
   * Fills in the handles of the rules our last commit inserted from its NEWRULE events, waiting for
   * the monitor to deliver them (a commit of 200,000 elements is 200,000 events to decode first).
   * False, so that the table is read back, when the events were lost or do not come.
   */
  private async awaitOwnHandles(v: View): Promise<boolean> {
    const made = v.committed;
    // After a quiet commit there are no events to learn from.
    if (made === undefined || this.quietGeneration === made) return false;
    const deadline = performance.now() + 5000;
    const lost = this.lostEvents;
    const skipped = (): boolean => this.lastSeenGeneration !== undefined && this.lastSeenGeneration > made;
    while (!this.ownRules.has(made) && !skipped() && this.lostEvents === lost && this.view === v && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2));
    }
    const added = this.ownRules.get(made);
    return this.view === v && added !== undefined && v.ruleset !== undefined && learnHandles(v.ruleset, added);
  }

  /** The live table as the differ should see it: without the rules keepLiveRule claims. */
  private withoutKeptRules(live: Ruleset | undefined): Ruleset | undefined {
    const keep = this.opts.keepLiveRule;
    if (!keep || !live) return live;
    const rules = new Map([...live.rules].map(([chain, list]) => [chain, list.filter((r) => !keep(r))] as const));
    return { ...live, rules };
  }

  private async syncNow(reason: string): Promise<SyncResult> {
    const desired = this.desired;
    if (!desired) throw new NftError('NFT_PROTOCOL', 'nothing to reconcile: no desired ruleset yet');
    const t0 = performance.now();
    const maxRetries = this.opts.maxRetries ?? 5;
    for (let retries = 0; ; retries++) {
      const view = await this.currentView();
      const plan = diff(desired.ruleset, this.withoutKeptRules(view.ruleset));
      if (plan.ops.length === 0) {
        this.st.inSync = true;
        this.st.generation = view.generation;
        this.st.lastError = undefined;
        return { changed: false, generation: view.generation, durationMs: performance.now() - t0, retries };
      }
      const tx: Transaction = planToTransaction(plan);
      const quiet = this.monitor !== undefined && eventCount(plan.summary) > QUIET_COMMIT_EVENTS;
      try {
        const res = quiet ? await this.quietCommit(tx, view.generation) : await this.kernel().commit(tx, { genId: view.generation });
        if (quiet && this.quietGeneration !== res.generation) {
          this.view = undefined;
          this.log.warn('another process committed while the monitor was closed for a large commit: reading the table back');
          void this.background('resync after a quiet commit', () => this.resync('others committed during a quiet commit'));
        }
        if (!quiet || this.quietGeneration === res.generation) {
          this.view = { ruleset: committedState(desired.ruleset, plan), generation: res.generation, committed: res.generation };
          // A quiet commit leaves no events to learn inserted rules' handles from: read them back
          // now, while idle, rather than when the next change is waiting.
          if (quiet && plan.summary.rulesAdded > 0) void this.background('handles of a large commit', () => this.serial(() => this.readHandles()));
        }
        const durationMs = performance.now() - t0;
        const summary = formatSummary(plan.summary);
        this.st.inSync = true;
        this.st.generation = res.generation;
        this.st.lastError = undefined;
        this.st.lastCommit = { time: new Date().toISOString(), durationMs, summary, generation: res.generation };
        this.log.info(`commit: ${summary}`, {
          reason, revision: desired.revision, generation: res.generation, ops: tx.size, retries,
          ms: +durationMs.toFixed(1), kernelMs: +res.totalMs.toFixed(1), ...plan.summary,
        });
        this.emit('commit', { reason, generation: res.generation, summary: plan.summary, revision: desired.revision });
        return { changed: true, generation: res.generation, summary: plan.summary, durationMs, retries };
      } catch (err) {
        if (err instanceof NftError && err.code === 'NFT_GENERATION_CHANGED' && retries < maxRetries) {
          const advanced = await this.catchUp(view);
          if (!advanced) this.view = undefined;
          this.log.debug(`generation moved under us; ${advanced ? 'others\' tables only, retrying' : 'reading the table again'}`, { reason, retries });
          continue;
        }
        this.view = undefined;
        this.st.inSync = false;
        this.st.lastError = (err as Error).message;
        this.log.error(`commit failed: ${(err as Error).message}`, { reason, code: (err as { code?: string }).code, retries });
        throw err;
      }
    }
  }

  /**
   * After a refused commit: if every generation since our view's was seen by the monitor and none
   * touched our table (kube-proxy, Docker... commit all the time), the view is still exact at the
   * current generation and no read-back is needed.
   */
  private async catchUp(v: View): Promise<boolean> {
    if (!this.monitor || this.view !== v) return false;
    const current = (await this.kernel().getGeneration()).id;
    const deadline = performance.now() + 100;
    const allSeen = (): boolean => {
      for (let id = v.generation + 1; id <= current; id++) if (!this.cleanGenerations.has(id)) return false;
      return true;
    };
    while (!allSeen() && this.view === v && performance.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    if (this.view !== v || !allSeen()) return false;
    v.generation = current;
    return true;
  }

  private markClean(id: number): void {
    this.cleanGenerations.add(id);
    if (this.cleanGenerations.size > 4096) {
      for (const old of this.cleanGenerations) {
        this.cleanGenerations.delete(old);
        if (this.cleanGenerations.size <= 2048) break;
      }
    }
  }

  private onGeneration(g: GenerationEvent): void {
    this.lastSeenGeneration = g.id;
    const ours = g.events.filter((e) => e.family === this.opts.family && e.table === this.opts.table);
    const v = this.view;
    if (g.pid === process.pid) {
      // Our own commit (the reconciler is the only writer of this table in this process): keep the
      // handles of the rules it inserted.
      this.ownRules.set(g.id, ours.filter((e) => e.kind === 'rule' && e.op === 'new').map((e) => e.object as Rule));
      for (const id of this.ownRules.keys()) if (id < g.id - 4) this.ownRules.delete(id);
      this.markClean(g.id);
      return;
    }
    if (ours.length === 0) {
      this.markClean(g.id);
      // Someone else's table: our view stays valid, and a commit based on it may use this generation.
      if (v && g.id === v.generation + 1) v.generation = g.id;
      return;
    }
    // A transaction whose last word on our table is its deletion leaves nothing to read back: the
    // repair is a fresh install. Anything else is re-read.
    const last = ours[ours.length - 1]!;
    this.view = last.kind === 'table' && last.op === 'delete' ? { ruleset: undefined, generation: g.id } : undefined;
    if (this.stopped || !this.desired) return;
    this.st.inSync = false;
    const d = this.drift ?? { since: performance.now(), what: new Map<string, number>(), pid: g.pid, procName: g.procName };
    for (const e of ours) {
      const k = `${e.op} ${e.kind}`;
      d.what.set(k, (d.what.get(k) ?? 0) + 1);
    }
    this.drift = d;
    if (!this.driftTimer) {
      this.driftTimer = setTimeout(() => {
        this.driftTimer = undefined;
        void this.background('drift repair', () => this.repair());
      }, this.opts.debounceMs ?? 5);
    }
  }

  /**
   * Runs a reconcile nobody waits for. If it fails (the error is logged by syncNow), the table is
   * read back and reconciled again after 1 s, 2 s, 4 s ... up to 30 s, until it succeeds.
   */
  private async background(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
      this.retryDelayMs = 1000;
    } catch {
      if (this.stopped || this.retryTimer) return;
      const delay = this.retryDelayMs;
      this.retryDelayMs = Math.min(this.retryDelayMs * 2, 30_000);
      this.log.warn(`${what} failed; retrying in ${delay} ms`);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        void this.background(`retry of ${what}`, () => this.resync(`retry of ${what}`));
      }, delay);
      this.retryTimer.unref();
    }
  }

  private onLostEvents(reason: string): void {
    this.lostEvents++;
    if (this.stopped) return;
    this.view = undefined;
    this.warn(`monitor lost events (${reason}): reading the table back`);
    void this.background('resync after lost events', () => this.resync('lost monitor events'));
  }

  private repair(): Promise<void> {
    return this.serial(async () => {
      const d = this.drift;
      this.drift = undefined;
      if (!d || this.stopped || !this.desired) return;
      const what = [...d.what].map(([k, n]) => (n > 1 ? `${k} x${n}` : k)).join('; ');
      this.log.warn(`drift: ${what} by pid ${d.pid} (${d.procName}); repairing`, { pid: d.pid, procName: d.procName });
      const res = await this.syncNow('drift repair');
      const latencyMs = performance.now() - d.since;
      const repair: DriftRepair = {
        time: new Date().toISOString(), what, pid: d.pid, procName: d.procName, latencyMs,
        repaired: res.summary ? formatSummary(res.summary) : 'nothing to repair',
      };
      this.st.driftRepairs++;
      this.st.recentRepairs.push(repair);
      if (this.st.recentRepairs.length > (this.opts.keepRepairs ?? 10)) this.st.recentRepairs.shift();
      this.log.info(`drift repaired in ${latencyMs.toFixed(1)} ms: ${repair.repaired}`, { pid: d.pid, procName: d.procName, ms: +latencyMs.toFixed(1) });
      this.emit('drift', repair);
    });
  }
}

/** Deletes `family name` if it exists (one DELTABLE: the kernel removes its chains, rules and sets). */
export async function removeTable(client: KernelClient, family: Family, name: string): Promise<boolean> {
  const { generation, ruleset } = await client.dumpTable(family, name);
  if (!ruleset) return false;
  await client.commit(new Transaction().deleteTable(ruleset.table), { genId: generation });
  return true;
}
