// Translation between the TypeScript API types (service.ts) and protobuf wire objects (as
// protobufjs produces them: camelCase fields, enum names, zero values for absent scalars). proto3
// has no presence for scalars, so optional numbers travel as 0 / -1 / has_* flags; each pair of
// functions here is the exact inverse of the other.
import type { WireMessage } from './proto';
import type {
  AgentStatus,
  ApplyRequest,
  ChangeEvent,
  CountersResult,
  DeleteRequest,
  DiffEntry,
  DiffRequest,
  DiffResult,
  ExplainRequest,
  ExplainResult,
  GetRequest,
  GetResult,
  MutationResult,
  NetsetRequest,
  ObjectAction,
  PolicyDocument,
  RevisionSummary,
  RollbackRequest,
  TraceLine,
  TraceRequest,
} from './service';

type W = WireMessage;

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const bool = (v: unknown): boolean => v === true;
const list = (v: unknown): W[] => (Array.isArray(v) ? (v as W[]) : []);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(str) : []);
const optStr = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const optPos = (v: unknown): number | undefined => (typeof v === 'number' && v > 0 ? v : undefined);
const optIndex = (v: unknown): number | undefined => (typeof v === 'number' && v >= 0 ? v : undefined);

const ACTION_PREFIX = 'OBJECT_ACTION_';

function actionToWire(a: ObjectAction): string {
  return ACTION_PREFIX + a.toUpperCase();
}

function actionFromWire(v: unknown): ObjectAction {
  const a = str(v).slice(ACTION_PREFIX.length).toLowerCase();
  if (a === 'created' || a === 'configured' || a === 'unchanged' || a === 'deleted') return a;
  throw Object.assign(new Error(`unknown object action ${JSON.stringify(v)} from the agent`), { code: 'API_PROTOCOL' });
}

function parseJson(text: unknown, what: string): unknown {
  try {
    return JSON.parse(str(text));
  } catch {
    throw Object.assign(new Error(`the agent sent ${what} that is not valid JSON`), { code: 'API_PROTOCOL' });
  }
}

const documentsToWire = (docs: PolicyDocument[]): W[] => docs.map((d) => ({ fileName: d.fileName, text: d.text }));
const documentsFromWire = (v: unknown): PolicyDocument[] =>
  list(v).map((d) => ({ fileName: str(d.fileName), text: str(d.text) }));

export const applyRequest = {
  toWire: (r: ApplyRequest): W => ({
    documents: documentsToWire(r.documents),
    dryRun: r.dryRun,
    skipUnsupported: r.skipUnsupported,
  }),
  fromWire: (w: W): ApplyRequest => ({
    documents: documentsFromWire(w.documents),
    dryRun: bool(w.dryRun),
    skipUnsupported: bool(w.skipUnsupported),
  }),
};

export const mutationResult = {
  toWire: (r: MutationResult): W => ({
    objects: r.objects.map((o) => ({ kind: o.kind, name: o.name, action: actionToWire(o.action) })),
    revision: r.revision,
    changed: r.changed,
    durationMs: r.durationMs,
    kernelApplied: r.kernelApplied,
    warnings: r.warnings,
    dryRun: r.dryRun,
  }),
  fromWire: (w: W): MutationResult => ({
    objects: list(w.objects).map((o) => ({ kind: str(o.kind), name: str(o.name), action: actionFromWire(o.action) })),
    revision: num(w.revision),
    changed: bool(w.changed),
    durationMs: num(w.durationMs),
    kernelApplied: bool(w.kernelApplied),
    warnings: strings(w.warnings),
    dryRun: bool(w.dryRun),
  }),
};

export const deleteRequest = {
  toWire: (r: DeleteRequest): W => ({
    refs: r.refs.map((ref) => ({ kind: ref.kind, name: ref.name })),
    documents: documentsToWire(r.documents),
    dryRun: r.dryRun,
    skipNotExists: r.skipNotExists,
  }),
  fromWire: (w: W): DeleteRequest => ({
    refs: list(w.refs).map((ref) => ({ kind: str(ref.kind), name: str(ref.name) })),
    documents: documentsFromWire(w.documents),
    dryRun: bool(w.dryRun),
    skipNotExists: bool(w.skipNotExists),
  }),
};

export const getRequest = {
  toWire: (r: GetRequest): W => ({ kind: r.kind ?? '', name: r.name ?? '' }),
  fromWire: (w: W): GetRequest => ({ kind: optStr(w.kind), name: optStr(w.name) }),
};

export const getResult = {
  toWire: (r: GetResult): W => ({
    resourcesJson: r.resources.map((res) => JSON.stringify(res)),
    revision: r.revision,
  }),
  fromWire: (w: W): GetResult => ({
    resources: strings(w.resourcesJson).map((t) => parseJson(t, 'a resource')),
    revision: num(w.revision),
  }),
};

export const diffRequest = {
  toWire: (r: DiffRequest): W => ({ documents: documentsToWire(r.documents), skipUnsupported: r.skipUnsupported }),
  fromWire: (w: W): DiffRequest => ({
    documents: documentsFromWire(w.documents),
    skipUnsupported: bool(w.skipUnsupported),
  }),
};

function diffEntryFromWire(e: W): DiffEntry {
  const action = actionFromWire(e.action);
  if (action === 'deleted') {
    throw Object.assign(new Error('the agent sent a diff entry with action "deleted"'), { code: 'API_PROTOCOL' });
  }
  const entry: DiffEntry = { kind: str(e.kind), name: str(e.name), action, desired: parseJson(e.desiredJson, 'a resource') };
  if (str(e.currentJson) !== '') entry.current = parseJson(e.currentJson, 'a resource');
  return entry;
}

export const diffResult = {
  toWire: (r: DiffResult): W => ({
    entries: r.entries.map((e) => ({
      kind: e.kind,
      name: e.name,
      action: actionToWire(e.action),
      currentJson: e.current === undefined ? '' : JSON.stringify(e.current),
      desiredJson: JSON.stringify(e.desired),
    })),
    changed: r.changed,
    revision: r.revision,
  }),
  fromWire: (w: W): DiffResult => ({
    entries: list(w.entries).map(diffEntryFromWire),
    changed: bool(w.changed),
    revision: num(w.revision),
  }),
};

export const agentStatus = {
  toWire: (s: AgentStatus): W => ({
    agentUp: s.agentUp,
    nodeName: s.nodeName,
    revision: s.revision,
    generation: s.generation,
    inSync: s.inSync,
    lastCommitTime: s.lastCommitTime ?? '',
    lastCommitDurationMs: s.lastCommitDurationMs ?? 0,
    driftRepairs: s.driftRepairs,
    lastRepairs: s.lastRepairs.map((r) => ({ time: r.time, description: r.description })),
    warnings: s.warnings,
    version: s.version,
    socketPath: s.socketPath,
    dbPath: s.dbPath,
    resourceCount: s.resourceCount,
  }),
  fromWire: (w: W): AgentStatus => {
    const status: AgentStatus = {
      agentUp: bool(w.agentUp),
      nodeName: str(w.nodeName),
      revision: num(w.revision),
      generation: num(w.generation),
      inSync: bool(w.inSync),
      driftRepairs: num(w.driftRepairs),
      lastRepairs: list(w.lastRepairs).map((r) => ({ time: str(r.time), description: str(r.description) })),
      warnings: strings(w.warnings),
      version: str(w.version),
      socketPath: str(w.socketPath),
      dbPath: str(w.dbPath),
      resourceCount: num(w.resourceCount),
    };
    if (optStr(w.lastCommitTime)) {
      status.lastCommitTime = str(w.lastCommitTime);
      status.lastCommitDurationMs = num(w.lastCommitDurationMs);
    }
    return status;
  },
};

export const revisionSummary = {
  toWire: (r: RevisionSummary): W => ({
    revision: r.revision,
    createdAt: r.createdAt,
    source: r.source,
    hasUid: r.actor?.uid !== undefined,
    uid: r.actor?.uid ?? 0,
    hasPid: r.actor?.pid !== undefined,
    pid: r.actor?.pid ?? 0,
    actorName: r.actor?.name ?? '',
    actorClaimed: r.actor?.claimed ?? false,
    comment: r.comment ?? '',
    resourceCount: r.resourceCount,
  }),
  fromWire: (w: W): RevisionSummary => {
    const r: RevisionSummary = {
      revision: num(w.revision),
      createdAt: str(w.createdAt),
      source: str(w.source),
      resourceCount: num(w.resourceCount),
    };
    const actor: NonNullable<RevisionSummary['actor']> = {};
    if (bool(w.hasUid)) actor.uid = num(w.uid);
    if (bool(w.hasPid)) actor.pid = num(w.pid);
    if (optStr(w.actorName)) actor.name = str(w.actorName);
    if (bool(w.actorClaimed)) actor.claimed = true;
    if (Object.keys(actor).length > 0) r.actor = actor;
    if (optStr(w.comment)) r.comment = str(w.comment);
    return r;
  },
};

export const rollbackRequest = {
  toWire: (r: RollbackRequest): W => ({ toRevision: r.toRevision ?? 0, dryRun: r.dryRun }),
  fromWire: (w: W): RollbackRequest => ({ toRevision: optPos(w.toRevision), dryRun: bool(w.dryRun) }),
};

export const netsetRequest = {
  toWire: (r: NetsetRequest): W => ({ name: r.name, cidrs: r.cidrs, dryRun: r.dryRun }),
  fromWire: (w: W): NetsetRequest => ({ name: str(w.name), cidrs: strings(w.cidrs), dryRun: bool(w.dryRun) }),
};

export const explainRequest = {
  toWire: (r: ExplainRequest): W => ({
    iif: r.iif,
    src: r.src,
    dst: r.dst,
    protocol: r.protocol,
    sport: r.sport ?? 0,
    dport: r.dport ?? 0,
    hasIcmpType: r.icmpType !== undefined,
    icmpType: r.icmpType ?? 0,
  }),
  fromWire: (w: W): ExplainRequest => {
    const r: ExplainRequest = { iif: str(w.iif), src: str(w.src), dst: str(w.dst), protocol: str(w.protocol) };
    if (optPos(w.sport) !== undefined) r.sport = num(w.sport);
    if (optPos(w.dport) !== undefined) r.dport = num(w.dport);
    if (bool(w.hasIcmpType)) r.icmpType = num(w.icmpType);
    return r;
  },
};

export const explainResult = {
  toWire: (r: ExplainResult): W => ({
    verdict: r.verdict,
    summary: r.summary,
    path: r.path.map((s) => ({
      chain: s.chain,
      rule: s.rule,
      comment: s.comment ?? '',
      policy: s.policy ?? '',
      ruleIndex: s.ruleIndex ?? -1,
      verdict: s.verdict,
    })),
  }),
  fromWire: (w: W): ExplainResult => ({
    verdict: str(w.verdict),
    summary: str(w.summary),
    path: list(w.path).map((s) => ({
      chain: str(s.chain),
      rule: str(s.rule),
      comment: optStr(s.comment),
      policy: optStr(s.policy),
      ruleIndex: optIndex(s.ruleIndex),
      verdict: str(s.verdict),
    })),
  }),
};

export const countersResult = {
  toWire: (r: CountersResult): W => ({
    time: r.time,
    counters: r.counters.map((c) => ({
      policy: c.policy ?? '',
      ruleIndex: c.ruleIndex ?? -1,
      action: c.action ?? '',
      comment: c.comment,
      chain: c.chain,
      packets: c.packets,
      bytes: c.bytes,
    })),
  }),
  fromWire: (w: W): CountersResult => ({
    time: str(w.time),
    counters: list(w.counters).map((c) => ({
      policy: optStr(c.policy),
      ruleIndex: optIndex(c.ruleIndex),
      action: optStr(c.action),
      comment: str(c.comment),
      chain: str(c.chain),
      packets: num(c.packets),
      bytes: num(c.bytes),
    })),
  }),
};

export const traceRequest = {
  toWire: (r: TraceRequest): W => ({
    src: r.src ?? '',
    dst: r.dst ?? '',
    dport: r.dport ?? 0,
    iif: r.iif ?? '',
    timeoutMs: r.timeoutMs ?? 0,
  }),
  fromWire: (w: W): TraceRequest => ({
    src: optStr(w.src),
    dst: optStr(w.dst),
    dport: optPos(w.dport),
    iif: optStr(w.iif),
    timeoutMs: optPos(w.timeoutMs),
  }),
};

export const traceLine = {
  toWire: (l: TraceLine): W => ({
    time: l.time,
    traceId: l.traceId,
    chain: l.chain,
    text: l.text,
    policy: l.policy ?? '',
    ruleIndex: l.ruleIndex ?? -1,
    verdict: l.verdict ?? '',
  }),
  fromWire: (w: W): TraceLine => ({
    time: str(w.time),
    traceId: str(w.traceId),
    chain: str(w.chain),
    text: str(w.text),
    policy: optStr(w.policy),
    ruleIndex: optIndex(w.ruleIndex),
    verdict: optStr(w.verdict),
  }),
};

export const changeEvent = {
  toWire: (e: ChangeEvent): W => ({
    time: e.time,
    type: e.type,
    revision: e.revision ?? 0,
    generation: e.generation ?? 0,
    message: e.message,
  }),
  fromWire: (w: W): ChangeEvent => ({
    time: str(w.time),
    type: str(w.type),
    revision: optPos(w.revision),
    generation: optPos(w.generation),
    message: str(w.message),
  }),
};
