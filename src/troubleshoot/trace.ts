// `flockguard trace`: follow real packets through our rules. A temporary rule `meta nftrace set 1`,
// guarded by the user's filter, goes at the head of our base chain (so every later rule of ours is
// traced, nftables-netlink.md 6.2), the kernel's NFT_MSG_TRACE events (NftTracer) are mapped back to
// our rules by handle and comment, and other tables' rules the packet meets afterwards (kube-proxy's
// DNAT) are shown by their nft text. The rule is removed when the trace ends, however it ends:
// timeout, cancel, or an error.
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { StreamSink, TraceLine, TraceRequest } from '../api/service';
import * as x from '../compiler/exprs';
import { NftClient, NftTracer, TraceEvent, Transaction } from '../kernel';
import { formatExprs } from '../nftables/format';
import { Expr, Family, Rule, Ruleset } from '../nftables/model';
import { formatIpAddress, parseIpAddress } from '../policy/nets';
import { TRACE_COMMENT_PREFIX, describeRole, ruleRole } from './comments';

export interface TraceFilter {
  src?: string;
  dst?: string;
  dport?: number;
  iif?: string;
}

/** What startTrace needs of NftTracer (tests may pass a tracer of their own). */
export interface TraceSource {
  on(event: 'trace', fn: (t: TraceEvent) => void): this;
  on(event: 'lost', fn: (reason: string) => void): this;
  close(): void;
}

export interface TraceOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  family?: Family;
  table?: string;
  /** The base chain the trace rule goes into. */
  chain?: string;
  /** Interface index to name; default: /sys/class/net. */
  ifName?: (index: number) => string | undefined;
}

export type TraceRecordKind = 'packet' | 'rule' | 'return' | 'policy' | 'lost' | 'end';

export interface TraceRecord extends TraceLine {
  kind: TraceRecordKind;
  /** "inet flockguard" or, for other tables, e.g. "ip kube-proxy". */
  table: string;
  event?: TraceEvent;
}

export interface TraceEnd {
  /** Every trace rule this session added is gone from the kernel. */
  removed: boolean;
  error?: string;
}

export class TraceError extends Error {
  constructor(readonly code: 'TRACE_BAD_FILTER' | 'TRACE_NO_TABLE', message: string) {
    super(message);
    this.name = 'TraceError';
  }
}

/** Longest trace the agent runs, whatever the client asks: a forgotten trace must not stay on. */
export const MAX_TRACE_MS = 10 * 60_000;
export const DEFAULT_TRACE_MS = 30_000;

/** The temporary rules' expressions: the filter's matches, then `meta nftrace set 1`. */
export function traceRuleExprs(filter: TraceFilter): Expr[][] {
  const head: Expr[] = [];
  if (filter.iif !== undefined) {
    if (filter.iif === '' || Buffer.byteLength(filter.iif) > 15) throw new TraceError('TRACE_BAD_FILTER', `--iif "${filter.iif}": an interface name has 1 to 15 bytes`);
    head.push(...x.iifname(filter.iif));
  }
  const src = filter.src !== undefined ? address('--src', filter.src) : undefined;
  const dst = filter.dst !== undefined ? address('--dst', filter.dst) : undefined;
  if (src && dst && src.family !== dst.family) throw new TraceError('TRACE_BAD_FILTER', `--src ${filter.src} and --dst ${filter.dst} are of different address families`);
  const family = src?.family ?? dst?.family;
  if (family) head.push(...x.nfproto(family));
  if (src) head.push(...x.addrPrefix(src.family, 'saddr', src.addr, src.addr.length * 8, 'eq'));
  if (dst) head.push(...x.addrPrefix(dst.family, 'daddr', dst.addr, dst.addr.length * 8, 'eq'));
  const set: Expr[] = [{ type: 'immediate', dreg: 1, data: Buffer.from([1]) }, { type: 'meta', key: 'nftrace', sreg: 1 }];
  if (filter.dport === undefined) return [[...head, ...set]];
  if (!Number.isInteger(filter.dport) || filter.dport < 1 || filter.dport > 65535) throw new TraceError('TRACE_BAD_FILTER', `--dport ${filter.dport}: not a port 1-65535`);
  // A port means TCP, UDP or SCTP: one rule each, so ICMP bytes at the port offset never match.
  return [6, 17, 132].map((proto) => [...head, ...x.l4proto(proto), ...x.portMatch('dport', filter.dport!, filter.dport!, 'eq'), ...set]);
}

function address(flag: string, text: string): { family: 4 | 6; addr: Buffer } {
  try {
    return parseIpAddress(text);
  } catch (err) {
    throw new TraceError('TRACE_BAD_FILTER', `${flag} ${text}: ${(err as Error).message}`);
  }
}

/** A running trace: iterate its records; they end after the trace rule has been removed. */
export class TraceSession implements AsyncIterable<TraceRecord> {
  private readonly queue: TraceRecord[] = [];
  private waiter: (() => void) | undefined;
  private finished = false;
  private stopping: Promise<TraceEnd> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly onAbort = (): void => void this.stop();

  constructor(
    readonly id: string,
    private readonly options: TraceOptions,
    private readonly cleanup: () => Promise<TraceEnd>,
  ) {}

  /** Resolves once the trace has ended and its rule is removed (or removal failed: see `error`). */
  stop(): Promise<TraceEnd> {
    this.stopping ??= this.finish();
    return this.stopping;
  }

  push(r: TraceRecord): void {
    if (this.finished) return;
    this.queue.push(r);
    this.waiter?.();
  }

  arm(): void {
    this.timer = setTimeout(() => void this.stop(), Math.min(this.options.timeoutMs, MAX_TRACE_MS));
    this.options.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (this.options.signal?.aborted) void this.stop();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TraceRecord> {
    for (;;) {
      const next = this.queue.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.finished) return;
      await new Promise<void>((resolve) => (this.waiter = resolve));
      this.waiter = undefined;
    }
  }

  private async finish(): Promise<TraceEnd> {
    clearTimeout(this.timer);
    this.options.signal?.removeEventListener('abort', this.onAbort);
    const end = await this.cleanup();
    const text = end.removed ? `trace ${this.id} ended; trace rule removed` : `trace ${this.id} ended; the trace rule could not be removed: ${end.error}`;
    this.push({ kind: 'end', time: new Date().toISOString(), traceId: '', chain: '', table: '', text });
    this.finished = true;
    this.waiter?.();
    return end;
  }
}

/**
 * Installs the trace rule(s) in our table and returns the running session. The tracer is opened
 * before the rule goes in, so no event is missed; if anything fails on the way, what was added is
 * removed before the error is thrown.
 */
export async function startTrace(client: NftClient, openTracer: () => TraceSource, filter: TraceFilter, options: TraceOptions): Promise<TraceSession> {
  const family = options.family ?? 'inet';
  const table = options.table ?? 'flockguard';
  const chain = options.chain ?? 'prerouting';
  const exprs = traceRuleExprs(filter);
  const id = randomBytes(4).toString('hex');
  const comment = `${TRACE_COMMENT_PREFIX}${id}`;
  const names = new RuleNames(client, family, table, options.ifName ?? ifNameFromSys);
  const removeOurs = async (): Promise<TraceEnd> => {
    try {
      await removeTraceRules(client, family, table, (c) => c === comment);
      return { removed: true };
    } catch (err) {
      return { removed: false, error: (err as Error).message };
    }
  };
  const tracer = openTracer();
  let session: TraceSession | undefined;
  try {
    const { ruleset } = await client.dumpTable(family, table);
    const base = ruleset?.chains.find((c) => c.name === chain && c.base);
    if (!ruleset || !base) throw new TraceError('TRACE_NO_TABLE', `trace: table ${family} ${table} has no base chain ${chain}: is the agent running and has it applied a policy?`);
    names.ours = ruleset;
    const first = ruleset.rules.get(chain)?.[0]?.handle;
    const tx = new Transaction();
    // Each rule goes before the current first rule, so together they stay in filter order at the head.
    for (const e of exprs) tx.addRule({ family, table, chain, exprs: e, comment }, first !== undefined ? { before: first } : undefined);
    // Records are mapped one event after another, so a table re-read cannot reorder a packet's path.
    let mapped = Promise.resolve();
    session = new TraceSession(id, options, async () => {
      tracer.close();
      await mapped;
      return removeOurs();
    });
    const s = session;
    tracer.on('trace', (t) => {
      mapped = mapped.then(() => names.records(t)).then((rs) => rs.forEach((r) => s.push(r)), () => undefined);
    });
    tracer.on('lost', (reason) => s.push({ kind: 'lost', time: new Date().toISOString(), traceId: '', chain: '', table: '', text: `events lost: ${reason}` }));
    await client.commit(tx);
  } catch (err) {
    tracer.close();
    await removeOurs();
    throw err;
  }
  session.arm();
  return session;
}

/** Deletes the rules of our table whose comment `match` accepts; returns how many went. */
export async function removeTraceRules(client: NftClient, family: Family, table: string, match: (comment: string) => boolean): Promise<number> {
  const { ruleset, generation } = await client.dumpTable(family, table);
  if (!ruleset) return 0;
  const tx = new Transaction();
  for (const rules of ruleset.rules.values()) {
    for (const r of rules) if (r.comment !== undefined && match(r.comment) && r.handle !== undefined) tx.deleteRule(r as Rule & { handle: bigint });
  }
  if (tx.isEmpty()) return 0;
  await client.commit(tx, { genId: generation });
  return tx.size;
}

/** Maps trace events to records: our rules by comment, other tables' rules by their nft text. */
class RuleNames {
  ours: Ruleset | undefined;
  private readonly others = new Map<string, Map<bigint, Rule>>();
  private lastRuleset = 0;
  private lastOurs = 0;
  private readonly seen = new Set<number>();

  constructor(
    private readonly client: NftClient,
    private readonly family: Family,
    private readonly table: string,
    private readonly ifName: (index: number) => string | undefined,
  ) {}

  async records(t: TraceEvent): Promise<TraceRecord[]> {
    const out: TraceRecord[] = [];
    const traceId = t.id.toString(16).padStart(8, '0');
    const time = new Date().toISOString();
    const tableName = `${t.family} ${t.table}`;
    if (!this.seen.has(t.id) && t.networkHeader) {
      this.seen.add(t.id);
      if (this.seen.size > 10_000) this.seen.clear();
      out.push({ kind: 'packet', time, traceId, chain: `${tableName} ${t.chain}`, table: tableName, text: `packet: ${describeHeaders(t, this.ifName)}`, event: t });
    }
    const ours = t.family === this.family && t.table === this.table;
    const rule = t.ruleHandle !== undefined ? await this.rule(t, ours) : undefined;
    const verdict = t.verdict ? (t.verdict.chain ? `${t.verdict.kind} ${t.verdict.chain}` : t.verdict.kind) : undefined;
    const record: TraceRecord = { kind: t.type, time, traceId, chain: `${tableName} ${t.chain}`, table: tableName, text: '', event: t };
    if (verdict) record.verdict = verdict;
    if (t.type === 'policy') record.text = `policy ${verdict ?? ''}`.trim();
    else if (t.type === 'return' || t.ruleHandle === undefined) {
      // The end of a jumped-to chain: no rule matched to the end, back to the caller. Kernels differ in
      // the type they give this event (RETURN, or RULE with no handle); both carry no rule.
      record.kind = 'return';
      record.text = `return${t.ruleHandle !== undefined ? ` (rule handle ${t.ruleHandle})` : ' (end of chain)'}`;
    }
    else {
      const role = ruleRole(rule?.comment);
      if (ours && role.kind === 'policy') {
        record.policy = role.policy;
        record.ruleIndex = role.ruleIndex;
      }
      const text = rule ? formatExprs(rule.exprs, { family: t.family }) : `handle ${t.ruleHandle}`;
      const who = ours ? `${describeRole(role)}: ` : '';
      record.text = `rule ${who}${text}${verdict ? ` (verdict ${verdict})` : ''}`;
    }
    out.push(record);
    return out;
  }

  /** The rule a trace names; tables are re-read (at most every 200 ms) when a handle is unknown. */
  private async rule(t: TraceEvent, ours: boolean): Promise<Rule | undefined> {
    const find = (): Rule | undefined => (ours ? this.findOurs(t) : this.others.get(`${t.family} ${t.table}`)?.get(t.ruleHandle!));
    const found = find();
    if (found) return found;
    const now = Date.now();
    try {
      if (ours && now - this.lastOurs > 200) {
        this.lastOurs = now;
        this.ours = (await this.client.dumpTable(this.family, this.table)).ruleset;
      } else if (!ours && now - this.lastRuleset > 200) {
        this.lastRuleset = now;
        const { tables } = await this.client.dumpRuleset();
        this.others.clear();
        for (const rs of tables) {
          const byHandle = new Map<bigint, Rule>();
          for (const rules of rs.rules.values()) for (const r of rules) if (r.handle !== undefined) byHandle.set(r.handle, r);
          this.others.set(`${rs.table.family} ${rs.table.name}`, byHandle);
        }
      }
    } catch {
      return undefined;
    }
    return find();
  }

  private findOurs(t: TraceEvent): Rule | undefined {
    return this.ours?.rules.get(t.chain)?.find((r) => r.handle === t.ruleHandle);
  }
}

/** "iif eth0 ip saddr 10.0.0.2 daddr 10.0.0.1 tcp sport 40000 dport 80" from the trace's header copies. */
export function describeHeaders(t: TraceEvent, ifName: (index: number) => string | undefined = ifNameFromSys): string {
  const parts: string[] = [];
  if (t.iif !== undefined) parts.push(`iif ${ifName(t.iif) ?? `#${t.iif}`}`);
  const nh = t.networkHeader;
  let proto: number | undefined;
  if (nh && nh.length >= 20 && nh[0] >> 4 === 4) {
    proto = nh[9];
    parts.push(`ip saddr ${formatIpAddress(4, nh.subarray(12, 16))} daddr ${formatIpAddress(4, nh.subarray(16, 20))} protocol ${proto}`);
  } else if (nh && nh.length >= 40 && nh[0] >> 4 === 6) {
    proto = nh[6];
    parts.push(`ip6 saddr ${formatIpAddress(6, nh.subarray(8, 24))} daddr ${formatIpAddress(6, nh.subarray(24, 40))} nexthdr ${proto}`);
  }
  const th = t.transportHeader;
  if (th && th.length >= 4 && (proto === 6 || proto === 17 || proto === 132)) {
    parts.push(`${proto === 6 ? 'tcp' : proto === 17 ? 'udp' : 'sctp'} sport ${th.readUInt16BE(0)} dport ${th.readUInt16BE(2)}`);
  } else if (th && th.length >= 2 && (proto === 1 || proto === 58)) {
    parts.push(`${proto === 1 ? 'icmp' : 'icmpv6'} type ${th[0]} code ${th[1]}`);
  }
  if (t.mark) parts.push(`mark 0x${t.mark.toString(16)}`);
  return parts.join(' ');
}

/** Interface names by index from sysfs (the agent runs in the node's namespace, where sysfs is its own). */
function ifNameFromSys(index: number): string | undefined {
  try {
    for (const name of readdirSync('/sys/class/net')) {
      if (Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8')) === index) return name;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

export interface TraceDeps {
  /** Default: a client of its own, closed when the trace ends. */
  client?: NftClient;
  /** Default: NftTracer.open. */
  openTracer?: () => TraceSource;
}

/**
 * The agent's trace handler in one call: runs a trace for `req`, writes each record to the sink,
 * and resolves when the trace has ended and its rule is removed.
 */
export async function runTrace(
  req: TraceRequest,
  sink: StreamSink<TraceLine>,
  signal: AbortSignal,
  deps: TraceDeps = {},
  options: Partial<TraceOptions> = {},
): Promise<TraceEnd> {
  const filter: TraceFilter = { src: req.src, dst: req.dst, dport: req.dport, iif: req.iif };
  const client = deps.client ?? NftClient.open();
  try {
    const session = await startTrace(client, deps.openTracer ?? (() => NftTracer.open()), filter, { timeoutMs: req.timeoutMs ?? DEFAULT_TRACE_MS, signal, ...options });
    for await (const r of session) sink.write(toLine(r));
    return await session.stop();
  } finally {
    if (!deps.client) client.close();
  }
}

function toLine(r: TraceRecord): TraceLine {
  const line: TraceLine = { time: r.time, traceId: r.traceId, chain: r.chain, text: r.text };
  if (r.policy !== undefined) line.policy = r.policy;
  if (r.ruleIndex !== undefined) line.ruleIndex = r.ruleIndex;
  if (r.verdict !== undefined) line.verdict = r.verdict;
  return line;
}
