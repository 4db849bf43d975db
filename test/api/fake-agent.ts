// An in-memory AgentService for API and CLI tests: it keeps resources by kind/name and revisions
// in a list, and computes created/configured/unchanged/deleted the way the real agent must. It
// parses documents with the `yaml` package only (no validation: the CLI validates before sending,
// and the real agent re-validates with src/policy).
import { parseAllDocuments } from 'yaml';
import {
  ServiceError,
  type AgentService,
  type AgentStatus,
  type CallContext,
  type ChangeEvent,
  type MutationResult,
  type ObjectResult,
  type PeerInfo,
  type PolicyDocument,
  type RevisionSummary,
  type StreamSink,
  type TraceLine,
} from '../../src/api/service';

interface StoredResource {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
}

const key = (kind: string, name: string): string => `${kind}/${name}`;
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export function parseDocuments(documents: PolicyDocument[]): StoredResource[] {
  const out: StoredResource[] = [];
  for (const doc of documents) {
    for (const parsed of parseAllDocuments(doc.text)) {
      const value = parsed.toJS() as StoredResource & { items?: StoredResource[] };
      if (value === null || value === undefined) continue;
      if (value.kind?.endsWith('List')) out.push(...(value.items ?? []));
      else out.push(value);
    }
  }
  return out;
}

export class FakeAgent implements AgentService {
  readonly resources = new Map<string, StoredResource>();
  readonly revisions: Array<RevisionSummary & { snapshot: Map<string, StoredResource> }> = [];
  readonly peers: PeerInfo[] = [];
  readonly monitors = new Set<StreamSink<ChangeEvent>>();
  /** Set to make the next mutation fail the way a kernel rejection would. */
  failNext?: ServiceError;
  traceStarted = 0;
  traceAborted = 0;

  get revision(): number {
    return this.revisions.length;
  }

  private commit(source: string, ctx: CallContext): void {
    this.revisions.push({
      revision: this.revisions.length + 1,
      createdAt: new Date().toISOString(),
      source,
      actor: { uid: ctx.peer.uid, pid: ctx.peer.pid, name: ctx.peer.user, claimed: true },
      resourceCount: this.resources.size,
      snapshot: new Map(this.resources),
    });
    for (const sink of this.monitors) {
      sink.write({ time: new Date().toISOString(), type: 'revision', revision: this.revision, message: source });
    }
  }

  private result(objects: ObjectResult[], dryRun: boolean, warnings: string[] = []): MutationResult {
    const changed = objects.some((o) => o.action !== 'unchanged');
    return { objects, revision: this.revision, changed, durationMs: 1.5, kernelApplied: !dryRun, warnings, dryRun };
  }

  private takeFailure(): void {
    const failure = this.failNext;
    this.failNext = undefined;
    if (failure) throw failure;
  }

  async apply(req: { documents: PolicyDocument[]; dryRun: boolean }, ctx: CallContext): Promise<MutationResult> {
    this.peers.push(ctx.peer);
    this.takeFailure();
    const incoming = parseDocuments(req.documents);
    const objects: ObjectResult[] = incoming.map((r) => {
      const current = this.resources.get(key(r.kind, r.metadata.name));
      const action = current === undefined ? 'created' : same(current, r) ? 'unchanged' : 'configured';
      return { kind: r.kind, name: r.metadata.name, action };
    });
    if (!req.dryRun && objects.some((o) => o.action !== 'unchanged')) {
      for (const r of incoming) this.resources.set(key(r.kind, r.metadata.name), r);
      this.commit('apply', ctx);
    }
    return this.result(objects, req.dryRun);
  }

  async delete(
    req: { refs: Array<{ kind: string; name: string }>; documents: PolicyDocument[]; dryRun: boolean; skipNotExists: boolean },
    ctx: CallContext,
  ): Promise<MutationResult> {
    this.peers.push(ctx.peer);
    const refs = [...req.refs, ...parseDocuments(req.documents).map((r) => ({ kind: r.kind, name: r.metadata.name }))];
    const present = refs.filter((r) => this.resources.has(key(r.kind, r.name)));
    const missing = refs.find((r) => !this.resources.has(key(r.kind, r.name)));
    if (missing && !req.skipNotExists) {
      throw new ServiceError('NOT_FOUND', `${missing.kind} "${missing.name}" does not exist`, { status: 'NOT_FOUND' });
    }
    if (!req.dryRun && present.length > 0) {
      for (const r of present) this.resources.delete(key(r.kind, r.name));
      this.commit('delete', ctx);
    }
    return this.result(present.map((r) => ({ ...r, action: 'deleted' as const })), req.dryRun);
  }

  async get(req: { kind?: string; name?: string }): Promise<{ resources: unknown[]; revision: number }> {
    const resources = [...this.resources.values()].filter(
      (r) => (req.kind === undefined || r.kind === req.kind) && (req.name === undefined || r.metadata.name === req.name),
    );
    if (req.name !== undefined && resources.length === 0) {
      throw new ServiceError('NOT_FOUND', `${req.kind} "${req.name}" does not exist`, { status: 'NOT_FOUND' });
    }
    return { resources, revision: this.revision };
  }

  async diff(req: { documents: PolicyDocument[] }): Promise<import('../../src/api/service').DiffResult> {
    const entries = parseDocuments(req.documents).map((desired) => {
      const current = this.resources.get(key(desired.kind, desired.metadata.name));
      const action = current === undefined ? 'created' : same(current, desired) ? 'unchanged' : 'configured';
      return { kind: desired.kind, name: desired.metadata.name, action, current, desired } as const;
    });
    return { entries, changed: entries.some((e) => e.action !== 'unchanged'), revision: this.revision };
  }

  status: () => Promise<AgentStatus> = async () => ({
    agentUp: true,
    nodeName: 'node-a',
    revision: this.revision,
    generation: 40 + this.revision,
    inSync: true,
    lastCommitTime: this.revision > 0 ? this.revisions[this.revision - 1].createdAt : undefined,
    lastCommitDurationMs: this.revision > 0 ? 2.25 : undefined,
    driftRepairs: 1,
    lastRepairs: [{ time: '2026-11-25T08:00:00.000Z', description: 'rule hep-eth0/3 was deleted by pid 4242 (nft)' }],
    warnings: [],
    version: '0.1.0',
    socketPath: '/run/flockguard/flockguard.sock',
    dbPath: '/var/lib/flockguard/flockguard.db',
    resourceCount: this.resources.size,
  });

  async history(limit: number | undefined): Promise<RevisionSummary[]> {
    const newestFirst = [...this.revisions].reverse().map(({ snapshot: _snapshot, ...info }) => info);
    return newestFirst.slice(0, limit ?? 50);
  }

  async rollback(req: { toRevision?: number; dryRun: boolean }, ctx: CallContext): Promise<MutationResult> {
    this.peers.push(ctx.peer);
    const to = req.toRevision ?? this.revision - 1;
    const target = this.revisions[to - 1];
    if (!target) {
      throw new ServiceError('REVISION_NOT_FOUND', `revision ${to} does not exist`, { status: 'NOT_FOUND' });
    }
    const objects: ObjectResult[] = [];
    for (const [k, r] of target.snapshot) {
      const current = this.resources.get(k);
      objects.push({ kind: r.kind, name: r.metadata.name, action: current === undefined ? 'created' : same(current, r) ? 'unchanged' : 'configured' });
    }
    for (const [k, r] of this.resources) {
      if (!target.snapshot.has(k)) objects.push({ kind: r.kind, name: r.metadata.name, action: 'deleted' });
    }
    if (!req.dryRun) {
      this.resources.clear();
      for (const [k, r] of target.snapshot) this.resources.set(k, r);
      this.commit(`rollback to ${to}`, ctx);
    }
    return this.result(objects, req.dryRun);
  }

  private netset(name: string, change: (nets: string[]) => string[], dryRun: boolean, ctx: CallContext): MutationResult {
    this.peers.push(ctx.peer);
    const k = key('GlobalNetworkSet', name);
    const current = this.resources.get(k);
    if (!current) {
      throw new ServiceError('NOT_FOUND', `GlobalNetworkSet "${name}" does not exist`, { status: 'NOT_FOUND' });
    }
    const before = (current.spec?.nets as string[] | undefined) ?? [];
    const after = change(before);
    const action = same(before, after) ? 'unchanged' : 'configured';
    if (!dryRun && action === 'configured') {
      this.resources.set(k, { ...current, spec: { ...current.spec, nets: after } });
      this.commit('netset', ctx);
    }
    return this.result([{ kind: 'GlobalNetworkSet', name, action }], dryRun);
  }

  async netsetAdd(req: { name: string; cidrs: string[]; dryRun: boolean }, ctx: CallContext): Promise<MutationResult> {
    return this.netset(req.name, (nets) => [...new Set([...nets, ...req.cidrs])], req.dryRun, ctx);
  }

  async netsetRemove(req: { name: string; cidrs: string[]; dryRun: boolean }, ctx: CallContext): Promise<MutationResult> {
    return this.netset(req.name, (nets) => nets.filter((n) => !req.cidrs.includes(n)), req.dryRun, ctx);
  }

  async explain(req: { iif: string; dport?: number }): Promise<import('../../src/api/service').ExplainResult> {
    const allowed = req.dport === 22;
    const comment = allowed ? 'failsafe tcp:22' : 'policy=deny-all rule=0 action=Deny';
    return {
      verdict: allowed ? 'accept' : 'drop',
      summary: allowed ? 'accepted by failsafe tcp:22' : 'dropped by policy deny-all rule 0',
      path: [
        { chain: 'prerouting', rule: `iifname "${req.iif}" jump hep-${req.iif}`, verdict: `jump hep-${req.iif}` },
        allowed
          ? { chain: `hep-${req.iif}`, rule: 'tcp dport 22 accept', comment, verdict: 'accept' }
          : { chain: `hep-${req.iif}`, rule: 'drop', comment, policy: 'deny-all', ruleIndex: 0, verdict: 'drop' },
      ],
    };
  }

  async counters(policy: string | undefined): Promise<import('../../src/api/service').CountersResult> {
    const all = [
      { policy: 'allow-web', ruleIndex: 0, action: 'Allow', comment: 'policy=allow-web rule=0 action=Allow', chain: 'hep-eth0', packets: 12, bytes: 3400 },
      { policy: 'deny-all', ruleIndex: 0, action: 'Deny', comment: 'policy=deny-all rule=0 action=Deny', chain: 'hep-eth0', packets: 5, bytes: 300 },
    ];
    return { counters: all.filter((c) => policy === undefined || c.policy === policy), time: new Date().toISOString() };
  }

  async trace(req: { timeoutMs?: number; dport?: number }, sink: StreamSink<TraceLine>, ctx: CallContext): Promise<void> {
    this.traceStarted++;
    const end = Date.now() + (req.timeoutMs ?? 30_000);
    let n = 0;
    while (Date.now() < end && !ctx.signal.aborted) {
      sink.write({
        time: new Date().toISOString(),
        traceId: `t${n}`,
        chain: 'hep-eth0',
        text: `tcp dport ${req.dport ?? 80} drop comment "policy=deny-all rule=0 action=Deny" (verdict drop)`,
        policy: 'deny-all',
        ruleIndex: 0,
        verdict: 'drop',
      });
      n++;
      await new Promise((r) => setTimeout(r, 20));
    }
    if (ctx.signal.aborted) this.traceAborted++;
  }

  async monitor(sink: StreamSink<ChangeEvent>, ctx: CallContext): Promise<void> {
    this.monitors.add(sink);
    sink.write({ time: new Date().toISOString(), type: 'resync', revision: this.revision, message: 'watching' });
    await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
    this.monitors.delete(sink);
  }
}
