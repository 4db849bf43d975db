// The agent's API handlers (AgentService, src/api/service.ts) over the store and the reconciler.
// Every mutation runs under one lock (concurrent applies serialise), is validated and compiled whole
// before anything changes, is pushed to the kernel first and recorded as a revision once the
// kernel holds it; a store failure then puts the previous ruleset back, so the two never disagree.
import type { Logger } from 'winston';
import {
  AgentService, AgentStatus, ApplyRequest, CallContext, ChangeEvent, CountersResult, DeleteRequest, DiffEntry,
  DiffRequest, DiffResult, ExplainRequest, ExplainResult, GetRequest, GetResult, MutationResult, NetsetRequest,
  ObjectResult, PeerInfo, RevisionSummary, RollbackRequest, ServiceError, StreamSink, TraceLine, TraceRequest,
} from '../api/service';
import { packageVersion } from '../cli/version';
import { CompileError, compile } from '../compiler';
import { Ruleset } from '../nftables/model';
import { parsePolicyText } from '../policy/parse';
import { PolicyIssue, Resource, resourceKey } from '../policy/model';
import { Reconciler } from '../reconciler/reconciler';
import { Actor, Store, canonicalJson } from '../store';
import { countersOf } from '../troubleshoot/counters';
import { explainPacket } from '../troubleshoot/explain';
import { runTrace } from '../troubleshoot/trace';
import { canonicalKind, changeNetset, hasChanges, mergeApply, objectResults, removeRefs } from './resources';

export interface AgentServiceOptions {
  nodeName: string;
  priority: number;
  socketPath: string;
  dbPath: string;
  logger: Logger;
}

const VERSION = packageVersion();

interface Change {
  next: Resource[];
  objects: ObjectResult[];
  warnings: string[];
  source: string;
  comment?: string;
  /** Rollback: record through store.rollback(to) rather than a plain commit. */
  rollbackTo?: number;
  /** Whether anything changed, when the change knows it cheaply (else every resource is compared). */
  changed?: boolean;
}

function actorOf(peer: PeerInfo): Actor | undefined {
  const a: Actor = {};
  if (peer.uid !== undefined) a.uid = peer.uid;
  if (peer.pid !== undefined) a.pid = peer.pid;
  if (peer.user !== undefined) a.name = peer.user;
  return Object.keys(a).length > 0 ? a : undefined;
}

function summarizeIssues(issues: PolicyIssue[]): string {
  const first = issues.slice(0, 3).map((i) => {
    const at = i.position?.file ? ` (${i.position.file}${i.position.line ? `:${i.position.line}` : ''})` : '';
    return `${i.object} ${i.field}: ${i.message}${at}`;
  });
  return `${issues.length} problem(s) in the documents, nothing was applied: ${first.join('; ')}${issues.length > 3 ? '; ...' : ''}`;
}

export class FlockguardService implements AgentService {
  private lock: Promise<unknown> = Promise.resolve();
  /** The ruleset the kernel holds for the current revision (what a failed store write reverts to). */
  private applied: Ruleset | undefined;
  /**
   * The current revision, kept in memory: the agent is the store's only writer, and reading a
   * revision back costs O(size) (a 1,000,000-net GlobalNetworkSet is 20 MB of JSON).
   */
  private current: { revision: number; resources: Resource[] } = { revision: 0, resources: [] };
  private readonly listeners = new Set<(e: ChangeEvent) => void>();

  private activeTraces = 0;

  constructor(private readonly store: Store, private readonly reconciler: Reconciler, private readonly opts: AgentServiceOptions) {
    reconciler.on('commit', (c: { reason: string; generation: number; revision?: number }) =>
      this.publish({ time: new Date().toISOString(), type: 'revision', revision: c.revision, generation: c.generation, message: `committed (${c.reason})` }));
    reconciler.on('drift', (d: { what: string; pid: number; procName: string; repaired: string }) =>
      this.publish({ time: new Date().toISOString(), type: 'drift-repaired', message: `${d.what} by pid ${d.pid} (${d.procName}): ${d.repaired}` }));
  }

  /** Compiles and pushes the current revision (at start: adopts whatever table is there, never deletes it). */
  async start(): Promise<void> {
    await this.serial(async () => {
      const stored = this.store.current();
      if (stored) this.current = { revision: stored.revision, resources: stored.resources };
      const ruleset = this.compileOrThrow(this.current.resources);
      await this.reconciler.apply(ruleset, stored?.revision);
      this.applied = ruleset;
    });
  }

  async apply(req: ApplyRequest, ctx: CallContext): Promise<MutationResult> {
    const { resources: incoming, skipped } = this.parse(req.documents, req.skipUnsupported);
    const touched = new Set(incoming.map(resourceKey));
    return this.mutate(req.dryRun, ctx, (current) => {
      const next = mergeApply(current, incoming);
      return { next, objects: objectResults(current, next, touched), warnings: skipped, source: `apply ${req.documents.map((d) => d.fileName).join(', ')}` };
    });
  }

  async delete(req: DeleteRequest, ctx: CallContext): Promise<MutationResult> {
    const refs = [...req.refs, ...this.parse(req.documents, true).resources.map((r) => ({ kind: r.kind, name: r.metadata.name }))];
    if (refs.length === 0) throw new ServiceError('INVALID_ARGUMENT', 'delete: name at least one object', { status: 'INVALID_ARGUMENT' });
    return this.mutate(req.dryRun, ctx, (current) => {
      const { next, deleted } = removeRefs(current, refs, req.skipNotExists);
      const objects = deleted.map((key) => ({ kind: key.slice(0, key.indexOf('/')), name: key.slice(key.indexOf('/') + 1), action: 'deleted' as const }));
      return { next, objects, warnings: [], source: 'delete' };
    });
  }

  async get(req: GetRequest): Promise<GetResult> {
    const current = this.current;
    const kind = req.kind === undefined ? undefined : canonicalKind(req.kind);
    const resources = current.resources.filter((r) => (!kind || r.kind === kind) && (req.name === undefined || r.metadata.name === req.name));
    if (req.name !== undefined && resources.length === 0) {
      throw new ServiceError('NOT_FOUND', `${kind ?? 'object'}/${req.name} not found`, { status: 'NOT_FOUND' });
    }
    return { resources, revision: current.revision };
  }

  async diff(req: DiffRequest): Promise<DiffResult> {
    const incoming = this.parse(req.documents, req.skipUnsupported).resources;
    const current = this.current;
    const byKey = new Map(current.resources.map((r) => [resourceKey(r), r]));
    const entries: DiffEntry[] = incoming.map((r) => {
      const old = byKey.get(resourceKey(r));
      const action = !old ? 'created' : canonicalJson(old) === canonicalJson(r) ? 'unchanged' : 'configured';
      return { kind: r.kind, name: r.metadata.name, action, current: old, desired: r };
    });
    return { entries, changed: entries.some((e) => e.action !== 'unchanged'), revision: current.revision };
  }

  async status(): Promise<AgentStatus> {
    const s = this.reconciler.status();
    const current = this.current;
    return {
      agentUp: true,
      nodeName: this.opts.nodeName,
      revision: current.revision,
      generation: s.generation ?? 0,
      inSync: s.inSync,
      lastCommitTime: s.lastCommit?.time,
      lastCommitDurationMs: s.lastCommit?.durationMs,
      driftRepairs: s.driftRepairs,
      lastRepairs: s.recentRepairs.map((r) => ({
        time: r.time,
        description: `${r.what} by pid ${r.pid} (${r.procName}); repaired in ${r.latencyMs.toFixed(1)} ms: ${r.repaired}`,
      })),
      warnings: s.lastError ? [...s.warnings, `last commit failed: ${s.lastError}`] : s.warnings,
      version: VERSION,
      socketPath: this.opts.socketPath,
      dbPath: this.opts.dbPath,
      resourceCount: current.resources.length,
    };
  }

  async history(limit: number | undefined): Promise<RevisionSummary[]> {
    return this.store.history(limit).map((r) => ({ ...r, actor: r.actor && { ...r.actor, claimed: true } }));
  }

  async rollback(req: RollbackRequest, ctx: CallContext): Promise<MutationResult> {
    return this.mutate(req.dryRun, ctx, (current) => {
      const to = req.toRevision ?? this.store.history(2)[1]?.revision;
      if (to === undefined) throw new ServiceError('FAILED_PRECONDITION', 'rollback: there is no earlier revision', { status: 'FAILED_PRECONDITION' });
      const target = this.store.get(to);
      if (!target) throw new ServiceError('NOT_FOUND', `rollback: revision ${to} does not exist; see \`flockguard history\``, { status: 'NOT_FOUND' });
      return { next: target.resources, objects: objectResults(current, target.resources), warnings: [], source: 'rollback', rollbackTo: to };
    });
  }

  async netsetAdd(req: NetsetRequest, ctx: CallContext): Promise<MutationResult> {
    return this.netset(req, ctx, 'add');
  }

  async netsetRemove(req: NetsetRequest, ctx: CallContext): Promise<MutationResult> {
    return this.netset(req, ctx, 'remove');
  }

  /** Evaluated on the ruleset last pushed for the current revision (what the kernel holds when in sync). */
  async explain(req: ExplainRequest): Promise<ExplainResult> {
    return explainPacket(this.applied, req);
  }

  /** Counters of our rules, read from the kernel now, mapped back to policy and rule through the comments. */
  async counters(policy: string | undefined): Promise<CountersResult> {
    return { counters: countersOf(await this.reconciler.readLive(), policy), time: new Date().toISOString() };
  }

  /**
   * Streams the kernel's trace of matching packets through our table, and what other tables (kube-proxy's
   * DNAT) did with them next, until the timeout or the client goes away. The marking rules are the
   * trace session's own: the reconciler leaves rules with the trace comment alone (src/agent/main.ts).
   */
  async trace(req: TraceRequest, sink: StreamSink<TraceLine>, ctx: CallContext): Promise<void> {
    if (!this.applied) throw new ServiceError('FAILED_PRECONDITION', 'trace: no policy is installed yet', { status: 'FAILED_PRECONDITION' });
    this.opts.logger.info('trace started', { ...req, uid: ctx.peer.uid, pid: ctx.peer.pid });
    this.activeTraces++;
    try {
      await runTrace(req, sink, ctx.signal);
    } finally {
      this.activeTraces--;
    }
  }

  /** Whether a trace runs now (its marking rules are then not drift). */
  tracing(): boolean {
    return this.activeTraces > 0;
  }

  /** Streams revision, drift and resync events until the client goes away. */
  monitor(sink: StreamSink<ChangeEvent>, ctx: CallContext): Promise<void> {
    return new Promise((resolve) => {
      const fn = (e: ChangeEvent): void => sink.write(e);
      this.listeners.add(fn);
      const done = (): void => {
        this.listeners.delete(fn);
        resolve();
      };
      if (ctx.signal.aborted) done();
      else ctx.signal.addEventListener('abort', done, { once: true });
    });
  }

  private publish(e: ChangeEvent): void {
    for (const fn of this.listeners) fn(e);
  }

  private netset(req: NetsetRequest, ctx: CallContext, mode: 'add' | 'remove'): Promise<MutationResult> {
    return this.mutate(req.dryRun, ctx, (current) => {
      const { next, action, warnings } = changeNetset(current, req.name, req.cidrs, mode);
      return {
        next, objects: [{ kind: 'GlobalNetworkSet', name: req.name, action }], changed: action !== 'unchanged', warnings,
        source: `netset ${mode}`, comment: `${mode} ${req.cidrs.length} net(s)`,
      };
    });
  }

  /** Parses every document; any issue in any of them refuses the whole request. */
  private parse(documents: ApplyRequest['documents'], skipUnsupported: boolean): { resources: Resource[]; skipped: string[] } {
    const resources: Resource[] = [];
    const issues: PolicyIssue[] = [];
    const skipped: string[] = [];
    for (const doc of documents) {
      const res = parsePolicyText(doc.text, { file: doc.fileName, skipUnsupported });
      for (const r of res.resources) resources.push(r);
      for (const i of res.issues) issues.push(i);
      for (const i of res.skipped) skipped.push(`skipped ${i.object}: ${i.message}`);
    }
    if (issues.length > 0) throw new ServiceError('POLICY_INVALID', summarizeIssues(issues), { status: 'INVALID_ARGUMENT', issues });
    return { resources, skipped };
  }

  private compileOrThrow(resources: readonly Resource[]): Ruleset {
    try {
      return compile(resources, this.opts.nodeName, { priority: this.opts.priority });
    } catch (err) {
      if (err instanceof CompileError) {
        throw new ServiceError(err.code, `nothing was applied: ${err.message}`, {
          status: 'INVALID_ARGUMENT',
          issues: [{ object: err.object, field: err.field, value: err.value, message: err.message, code: err.code }],
        });
      }
      throw err;
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private mutate(dryRun: boolean, ctx: CallContext, plan: (current: Resource[]) => Change): Promise<MutationResult> {
    return this.serial(async () => {
      const t0 = performance.now();
      const current = this.current;
      const change = plan(current.resources);
      const changed = change.changed ?? hasChanges(objectResults(current.resources, change.next));
      const ruleset = changed ? this.compileOrThrow(change.next) : undefined;
      const result = (revision: number, kernelApplied: boolean): MutationResult => ({
        objects: change.objects, revision, changed, durationMs: performance.now() - t0, kernelApplied,
        warnings: change.warnings, dryRun,
      });
      if (dryRun) return result(current.revision, false);
      // Nothing changed: no revision, no commit; the kernel holds the current one if we are in sync.
      if (!ruleset) return result(current.revision, this.reconciler.status().inSync);
      await this.reconciler.apply(ruleset, current.revision);
      const actor = actorOf(ctx.peer);
      let revision: number;
      try {
        revision = change.rollbackTo !== undefined
          ? this.store.rollback(change.rollbackTo, { source: change.source, actor }).revision
          : this.store.commit({ resources: change.next, source: change.source, actor, comment: change.comment }).revision;
      } catch (err) {
        this.opts.logger.error(`store write failed, putting the previous ruleset back: ${(err as Error).message}`);
        if (this.applied) await this.reconciler.apply(this.applied, current.revision).catch(() => undefined);
        throw err;
      }
      this.applied = ruleset;
      this.current = { revision, resources: change.next };
      this.reconciler.setRevision(revision);
      this.opts.logger.info(`revision ${revision}: ${change.source}`, {
        revision, uid: actor?.uid, pid: actor?.pid, user: actor?.name,
        objects: change.objects.filter((o) => o.action !== 'unchanged').map((o) => `${o.kind}/${o.name} ${o.action}`),
      });
      return result(revision, true);
    });
  }
}
