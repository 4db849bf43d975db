// The agent's API as plain TypeScript: what `flockguard agent` implements (AgentService) and what
// the CLI receives through ApiClient. src/api/server.ts and client.ts translate these to and from
// the protobuf messages of proto/flockguard.proto; nothing outside src/api sees protobuf types.
import type { PolicyIssue } from '../policy/model';

/** One input file as the user wrote it; the agent parses it again and reports with this name. */
export interface PolicyDocument {
  fileName: string;
  text: string;
}

export type ObjectAction = 'created' | 'configured' | 'unchanged' | 'deleted';

export interface ObjectResult {
  kind: string;
  name: string;
  action: ObjectAction;
}

/** The outcome of every mutation (apply, delete, rollback, netset add/remove). */
export interface MutationResult {
  objects: ObjectResult[];
  revision: number;
  changed: boolean;
  durationMs: number;
  /** True once the kernel holds the new revision; false for dry runs. */
  kernelApplied: boolean;
  warnings: string[];
  dryRun: boolean;
}

export interface ApplyRequest {
  documents: PolicyDocument[];
  dryRun: boolean;
  skipUnsupported: boolean;
}

export interface ResourceRef {
  kind: string;
  name: string;
}

export interface DeleteRequest {
  refs: ResourceRef[];
  documents: PolicyDocument[];
  dryRun: boolean;
  skipNotExists: boolean;
}

export interface GetRequest {
  /** Canonical kind ("GlobalNetworkPolicy"); undefined = every kind. */
  kind?: string;
  name?: string;
}

export interface GetResult {
  /** Full projectcalico.org/v3 resources as plain objects. */
  resources: unknown[];
  revision: number;
}

export interface DiffRequest {
  documents: PolicyDocument[];
  skipUnsupported: boolean;
}

export interface DiffEntry {
  kind: string;
  name: string;
  action: Exclude<ObjectAction, 'deleted'>;
  /** As stored; undefined when not stored. */
  current?: unknown;
  /** As the documents define it, normalised the way the store keeps it. */
  desired: unknown;
}

export interface DiffResult {
  entries: DiffEntry[];
  changed: boolean;
  revision: number;
}

export interface DriftRepair {
  time: string;
  description: string;
}

export interface AgentStatus {
  agentUp: boolean;
  nodeName: string;
  revision: number;
  generation: number;
  inSync: boolean;
  /** ISO 8601; undefined when nothing was committed since start. */
  lastCommitTime?: string;
  lastCommitDurationMs?: number;
  driftRepairs: number;
  lastRepairs: DriftRepair[];
  warnings: string[];
  version: string;
  socketPath: string;
  dbPath: string;
  resourceCount: number;
}

export interface RevisionActor {
  uid?: number;
  pid?: number;
  name?: string;
  /** uid/pid/name were claimed by the client, not verified by the kernel. */
  claimed?: boolean;
}

export interface RevisionSummary {
  revision: number;
  createdAt: string;
  source: string;
  actor?: RevisionActor;
  comment?: string;
  resourceCount: number;
}

export interface RollbackRequest {
  /** undefined = the revision before the current one. */
  toRevision?: number;
  dryRun: boolean;
}

export interface NetsetRequest {
  name: string;
  cidrs: string[];
  dryRun: boolean;
}

export interface ExplainRequest {
  iif: string;
  src: string;
  dst: string;
  protocol: string;
  sport?: number;
  dport?: number;
  icmpType?: number;
}

export interface ExplainStep {
  chain: string;
  rule: string;
  comment?: string;
  policy?: string;
  /** undefined for built-in rules (failsafes, conntrack, chain policy). */
  ruleIndex?: number;
  verdict: string;
}

export interface ExplainResult {
  verdict: string;
  path: ExplainStep[];
  summary: string;
}

export interface RuleCounter {
  policy?: string;
  ruleIndex?: number;
  action?: string;
  comment: string;
  chain: string;
  packets: number;
  bytes: number;
}

export interface CountersResult {
  counters: RuleCounter[];
  time: string;
}

export interface TraceRequest {
  src?: string;
  dst?: string;
  dport?: number;
  iif?: string;
  /** undefined = the agent's default; the stream ends when it expires. */
  timeoutMs?: number;
}

export interface TraceLine {
  time: string;
  traceId: string;
  chain: string;
  text: string;
  policy?: string;
  ruleIndex?: number;
  verdict?: string;
}

export type ChangeEventType = 'revision' | 'drift-repaired' | 'resync' | 'error';

export interface ChangeEvent {
  time: string;
  type: ChangeEventType | string;
  revision?: number;
  generation?: number;
  message: string;
}

/**
 * Who called. Node cannot read SO_PEERCRED, so uid/pid/user are what the client put in the call
 * metadata: record them, always labelled claimed. Access control is the socket file's mode/group.
 */
export interface PeerInfo {
  uid?: number;
  pid?: number;
  user?: string;
  claimed: true;
}

export interface CallContext {
  peer: PeerInfo;
  /** Aborted when the client cancels or disconnects. */
  signal: AbortSignal;
}

/** Where a streaming handler writes; `write` after the client went away is a no-op. */
export interface StreamSink<T> {
  write(item: T): void;
}

/**
 * The agent's handlers. Throw ServiceError (or any Error with a `code`) to fail a call; the
 * client sees the same code and message. Streaming handlers write to the sink and resolve when
 * the stream is finished (timeout reached, or ctx.signal aborted).
 */
export interface AgentService {
  apply(req: ApplyRequest, ctx: CallContext): Promise<MutationResult>;
  delete(req: DeleteRequest, ctx: CallContext): Promise<MutationResult>;
  get(req: GetRequest, ctx: CallContext): Promise<GetResult>;
  diff(req: DiffRequest, ctx: CallContext): Promise<DiffResult>;
  status(ctx: CallContext): Promise<AgentStatus>;
  history(limit: number | undefined, ctx: CallContext): Promise<RevisionSummary[]>;
  rollback(req: RollbackRequest, ctx: CallContext): Promise<MutationResult>;
  netsetAdd(req: NetsetRequest, ctx: CallContext): Promise<MutationResult>;
  netsetRemove(req: NetsetRequest, ctx: CallContext): Promise<MutationResult>;
  explain(req: ExplainRequest, ctx: CallContext): Promise<ExplainResult>;
  counters(policy: string | undefined, ctx: CallContext): Promise<CountersResult>;
  trace(req: TraceRequest, sink: StreamSink<TraceLine>, ctx: CallContext): Promise<void>;
  monitor(sink: StreamSink<ChangeEvent>, ctx: CallContext): Promise<void>;
}

/** How a failure is classified on the wire (gRPC status names). */
export type ErrorStatus =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'INTERNAL';

/**
 * A failed call, on both sides: the agent throws it, the client rejects with it. `code` is the
 * stable string (POLICY_INVALID, NOT_FOUND, NFT_KERNEL_ERROR, AGENT_UNREACHABLE ...).
 */
export class ServiceError extends Error {
  readonly code: string;
  readonly status: ErrorStatus;
  readonly issues: PolicyIssue[];

  constructor(code: string, message: string, options: { status?: ErrorStatus; issues?: PolicyIssue[] } = {}) {
    super(message);
    this.name = 'ServiceError';
    this.code = code;
    this.status = options.status ?? (options.issues && options.issues.length > 0 ? 'INVALID_ARGUMENT' : 'INTERNAL');
    this.issues = options.issues ?? [];
  }
}
