// The nf_tables kernel client: consistent dumps and atomic batches over one NETLINK_NETFILTER
// socket. Operations on one client run one at a time.
//
// Dumps follow nft's cache loop (nft cache.c nft_cache_update): GETGEN, the dumps, GETGEN again,
// and start over when a message carries NLM_F_DUMP_INTR, when its res_id is not the generation the
// snapshot started at, or when the generation moved.
//
// A commit sends the batch in one sendmsg, then a GETGEN as a sentinel. nfnetlink processes a batch
// synchronously inside sendmsg and ignores whatever follows BATCH_END in the same datagram, so the
// sentinel is a second sendmsg; netlink unicast to one socket is FIFO, so every error of the batch
// is queued before the sentinel's NEWGEN (spec 1.3 "portable completion sentinel").
//
// The socket (see NetlinkSocketOptions): SO_SNDBUFFORCE sized per batch as nft does
// (mnl_set_sndbuffer), so a batch is not limited by net.core.wmem_max; NETLINK_CAP_ACK, so that a
// failed batch of 89,000 element messages is not echoed back whole; NETLINK_EXT_ACK for the kernel's
// own error text; NETLINK_NO_ENOBUFS, since npm netlink aborts the process on ENOBUFS (a lost reply
// then shows in the socket's drop counter instead); and a fixed 70 KiB receive buffer, from which the
// kernel sizes dump chunks at its 32 KiB maximum (af_netlink.c netlink_recvmsg, max_recvmsg_len).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  AttributeWriter,
  NLMSG_ERROR,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NetlinkMessage,
  NetlinkSocket,
  NetlinkSocketError,
  endMessage,
  parseErrorBody,
} from '../netlink';
import {
  Generation,
  NFTA_CHAIN,
  NFTA_RULE,
  NFTA_SET,
  NFTA_SET_ELEM_LIST,
  NFTA_TABLE,
  NftMessage,
  NftMsg,
  beginNftMessage,
  decodeChain,
  decodeGen,
  decodeRule,
  decodeSet,
  decodeSetElements,
  decodeTable,
  encodeGetGen,
  familyNumber,
  nftMsgName,
  nftMsgType,
  parseNftMessage,
} from '../nftables';
import { Family, NftSet, Ruleset, Table } from '../nftables/model';
import { ERESTART, NftError, kernelError } from './errors';
import { describeAttributeAt } from './extack';
import { Transaction } from './transaction';

export const NETLINK_NETFILTER = 12;
/** netlink_sendmsg refuses a datagram longer than sk_sndbuf - 32 with EMSGSIZE (af_netlink.c). */
const SNDBUF_OVERHEAD = 32;
const MAX_SNAPSHOT_ATTEMPTS = 20;
const ENOENT = 2;
/** Headroom above a batch when forcing the send buffer to fit it. */
const SNDBUF_HEADROOM = 1 << 20;
/** Above the largest single message (an error echoing a 64 KiB request without CAP_ACK) and a 32 KiB dump chunk. */
const MSG_BUFFER = 70 << 10;
/**
 * The kernel re-walks an interval set from its start for every dump chunk (nft_rbtree_walk skips
 * what earlier chunks sent), so dumping n intervals is O(n^2): over a minute for 1,000,000 here.
 */
const REQUEST_TIMEOUT_MS = 300_000;

export interface NftClientOptions {
  /** The initial send buffer; each commit grows it (forced, beyond wmem_max) to fit its batch. */
  sendBufferSize?: number;
  /** The receive buffer (forced, beyond rmem_max, when the native addon is there). Default 32 MiB. */
  recvBufferSize?: number;
  /** How long one request (a whole dump included) may take. Default 5 minutes. */
  timeoutMs?: number;
}

export interface CommitResult {
  /** The generation after the commit (the sentinel's NEWGEN). */
  generation: number;
  /** Time spent in the batch's sendmsg: the kernel's own work on it. */
  sendMs: number;
  totalMs: number;
}

/** Thrown inside a snapshot attempt when the ruleset changed under it; the attempt starts over. */
class DumpRace extends Error {}

export class NftClient {
  private lock: Promise<unknown> = Promise.resolve();

  private constructor(private readonly socket: NetlinkSocket) {
    socket.onUnsolicited(() => undefined);
  }

  static open(options: NftClientOptions = {}): NftClient {
    const send = options.sendBufferSize ?? 4 << 20;
    const recv = options.recvBufferSize ?? 32 << 20;
    try {
      return new NftClient(
        new NetlinkSocket(NETLINK_NETFILTER, {
          sendBufferSize: send,
          sendBufferForce: send,
          recvBufferSize: recv,
          recvBufferForce: recv,
          extAck: true,
          capAck: true,
          noEnobufs: true,
          messagePeeking: false,
          msgBufferSize: MSG_BUFFER,
          timeoutMs: options.timeoutMs ?? REQUEST_TIMEOUT_MS,
        }),
      );
    } catch (err) {
      throw new NftError('NFT_SOCKET', `cannot open a NETLINK_NETFILTER socket: ${(err as Error).message}`);
    }
  }

  get portId(): number {
    return this.socket.portId;
  }

  getGeneration(): Promise<Generation> {
    return this.locked(() => this.generation());
  }

  /**
   * Consistent snapshot of one table (chains, rules, sets with elements), or undefined if absent.
   * `skipElements`: sets whose elements the caller already knows come back without them (dumping a
   * set costs the kernel O(n^2), performance.md).
   */
  dumpTable(
    family: Family,
    name: string,
    options: { skipElements?: (s: NftSet) => boolean } = {},
  ): Promise<{ generation: number; ruleset: Ruleset | undefined }> {
    return this.locked(() =>
      this.snapshot(async (gen) => {
        const table = await this.getTable(family, name, gen);
        if (!table) return undefined;
        const [ruleset] = await this.fill([table], familyNumber(family), name, gen, options.skipElements);
        return ruleset;
      }),
    ).then(({ generation, value }) => ({ generation, ruleset: value }));
  }

  /** Consistent snapshot of every table of every family. */
  dumpRuleset(): Promise<{ generation: number; tables: Ruleset[] }> {
    return this.locked(() =>
      this.snapshot(async (gen) => {
        const tables = (await this.dump(NftMsg.GETTABLE, 0, gen)).filter(known).map(decodeTable);
        return this.fill(tables, 0, undefined, gen);
      }),
    ).then(({ generation, value }) => ({ generation, tables: value }));
  }

  /**
   * Sends the transaction as one batch and waits for the kernel's verdict. Throws NftError naming the
   * failed operation and object; with `genId`, a ruleset changed by anyone since that generation is
   * refused whole (ERESTART) and reported as NFT_GENERATION_CHANGED.
   */
  commit(tx: Transaction, options: { genId?: number } = {}): Promise<CommitResult> {
    return this.locked(() => this.commitBatch(tx, options.genId));
  }

  /** Closes the socket (NetlinkSocket.close defers the native close past the receive callback). */
  close(): void {
    this.socket.close();
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private async commitBatch(tx: Transaction, genId: number | undefined): Promise<CommitResult> {
    const t0 = performance.now();
    if (tx.isEmpty()) return { generation: (await this.generation()).id, sendMs: 0, totalMs: performance.now() - t0 };
    const parts = tx.encode(genId);
    this.ensureSendBuffer(parts.reduce((n, b) => n + b.length, 0));
    const dropsBefore = this.droppedReplies();
    const early: NetlinkMessage[] = [];
    this.socket.onUnsolicited((ms) => early.push(...ms));
    let sendMs: number;
    let replies: NetlinkMessage[];
    try {
      const ts = performance.now();
      await this.socket.send(parts).catch((err: NetlinkSocketError) => {
        throw this.sendError(err, parts);
      });
      sendMs = performance.now() - ts;
      const seq = this.socket.nextSeq();
      replies = early.concat(await this.socket.exchange([getGenMessage(seq)], seq));
    } catch (err) {
      throw socketError(err, 'commit');
    } finally {
      this.socket.onUnsolicited(() => undefined);
    }
    const dropped = dropsBefore === undefined ? 0 : (this.droppedReplies() ?? dropsBefore) - dropsBefore;
    const errors = batchErrors(tx, parts, replies);
    if (errors.length) throw summarise(errors, dropped);
    const gen = replies.map(parseNftMessage).find((m) => m?.msg === 'NEWGEN');
    if (!gen) throw new NftError('NFT_PROTOCOL', 'commit: no NEWGEN answered the generation sentinel');
    const generation = decodeGen(gen).id;
    if (dropped > 0) throw lostReplies(dropped, genId, generation);
    return { generation, sendMs, totalMs: performance.now() - t0 };
  }

  /** The socket's drop counter, when drops are silent (NO_ENOBUFS) and so must be looked for. */
  private droppedReplies(): number | undefined {
    if (!this.socket.applied.noEnobufs) return undefined;
    try {
      return this.socket.droppedMessages();
    } catch {
      return undefined;
    }
  }

  /**
   * Makes the send buffer hold the batch in one datagram: SO_SNDBUFFORCE sized to it, as nft does;
   * without the addon or CAP_NET_ADMIN, SO_SNDBUF, capped at 2 * net.core.wmem_max.
   */
  private ensureSendBuffer(bytes: number): void {
    const needed = bytes + SNDBUF_OVERHEAD;
    if (this.socket.sendBufferSize >= needed) return;
    // The kernel doubles the value asked for (sock_setsockopt).
    this.socket.forceSendBufferSize(Math.ceil((needed + SNDBUF_HEADROOM) / 2));
    const got = this.socket.sendBufferSize;
    if (got >= needed) return;
    throw new NftError(
      'NFT_BATCH_TOO_LARGE',
      `batch of ${bytes} bytes does not fit the socket send buffer of ${got} bytes (without the native socket-option ` +
        `addon and CAP_NET_ADMIN the kernel caps SO_SNDBUF at 2 x net.core.wmem_max = 2 x ${readWmemMax()}); ` +
        `raise net.core.wmem_max to at least ${Math.ceil(needed / 2)}, build the addon (npm run build:native), ` +
        'or split the change over several commits',
      { operation: 'BATCH', object: 'batch' },
    );
  }

  private sendError(err: NetlinkSocketError, parts: Buffer[]): NftError {
    const bytes = parts.reduce((n, b) => n + b.length, 0);
    if (err.code === 'EMSGSIZE') {
      return new NftError(
        'NFT_BATCH_TOO_LARGE',
        `batch of ${bytes} bytes refused by sendmsg (EMSGSIZE); raise net.core.wmem_max`,
        { operation: 'BATCH', object: 'batch', errno: err.errno },
      );
    }
    return new NftError('NFT_SOCKET', `commit: ${err.message}`, { operation: 'BATCH', object: 'batch', errno: err.errno });
  }

  private async generation(): Promise<Generation> {
    const seq = this.socket.nextSeq();
    let replies: NetlinkMessage[];
    try {
      replies = await this.socket.exchange([getGenMessage(seq)], seq);
    } catch (err) {
      throw socketError(err, 'GETGEN');
    }
    for (const m of replies) {
      if (m.seq !== seq) continue;
      failOnError(m, 'GETGEN', 'ruleset generation');
      const nm = parseNftMessage(m);
      if (nm?.msg === 'NEWGEN') return decodeGen(nm);
    }
    throw new NftError('NFT_PROTOCOL', 'GETGEN: no NEWGEN in the reply');
  }

  /** Runs `read` until it completes with the generation unchanged from start to end. */
  private async snapshot<T>(read: (gen: number) => Promise<T>): Promise<{ generation: number; value: T }> {
    for (let attempt = 0; attempt < MAX_SNAPSHOT_ATTEMPTS; attempt++) {
      const before = (await this.generation()).id;
      let value: T;
      try {
        value = await read(before);
      } catch (err) {
        if (err instanceof DumpRace) continue;
        throw err;
      }
      if ((await this.generation()).id === before) return { generation: before, value };
    }
    throw new NftError(
      'NFT_DUMP_INCONSISTENT',
      `the ruleset kept changing while it was read (${MAX_SNAPSHOT_ATTEMPTS} attempts)`,
      { operation: 'GETGEN', object: 'ruleset' },
    );
  }

  private async getTable(family: Family, name: string, gen: number): Promise<Table | undefined> {
    const seq = this.socket.nextSeq();
    const w = new AttributeWriter(64);
    const start = beginNftMessage(w, { msg: NftMsg.GETTABLE, flags: 0, seq, family: familyNumber(family) });
    w.string(NFTA_TABLE.NAME, name);
    endMessage(w, start);
    const replies = await this.exchangeOrThrow(w.toBuffer(), seq, 'GETTABLE');
    for (const m of replies) {
      if (m.seq !== seq) continue;
      if (m.type === NLMSG_ERROR) {
        const body = parseErrorBody(m);
        if (body.errno === ENOENT) return undefined;
        failOnError(m, 'GETTABLE', `table ${family} ${name}`);
        continue;
      }
      const nm = parseNftMessage(m);
      if (nm?.msg !== 'NEWTABLE') continue;
      checkConsistent(nm, gen);
      return decodeTable(nm);
    }
    return undefined;
  }

  /** Chains, rules, sets and elements of `tables`, dumped for one family (0: all) and table (or all). */
  private async fill(
    tables: Table[],
    family: number,
    table: string | undefined,
    gen: number,
    skipElements: (s: NftSet) => boolean = () => false,
  ): Promise<Ruleset[]> {
    const byKey = new Map<string, Ruleset>();
    for (const t of tables) byKey.set(`${t.family} ${t.name}`, { table: t, chains: [], rules: new Map(), sets: [] });
    const filter = (type: number) => (w: AttributeWriter) => {
      if (table !== undefined) w.string(type, table);
    };
    const chains = (await this.dump(NftMsg.GETCHAIN, family, gen, filter(NFTA_CHAIN.TABLE))).filter(known).map(decodeChain);
    for (const c of chains) {
      const rs = byKey.get(`${c.family} ${c.table}`);
      if (!rs) continue;
      rs.chains.push(c);
      rs.rules.set(c.name, []);
    }
    const rules = (await this.dump(NftMsg.GETRULE, family, gen, filter(NFTA_RULE.TABLE))).filter(known).map(decodeRule);
    for (const r of rules) byKey.get(`${r.family} ${r.table}`)?.rules.get(r.chain)?.push(r);
    const sets = (await this.dump(NftMsg.GETSET, family, gen, filter(NFTA_SET.TABLE))).filter(known).map(decodeSet);
    for (const s of sets) {
      const rs = byKey.get(`${s.family} ${s.table}`);
      if (!rs) continue;
      if (!skipElements(s)) s.elements = await this.dumpElements(s, gen);
      rs.sets.push(s);
    }
    return [...byKey.values()];
  }

  private async dumpElements(s: NftSet, gen: number): Promise<NonNullable<NftSet['elements']>> {
    const msgs = await this.dump(NftMsg.GETSETELEM, familyNumber(s.family), gen, (w) => {
      w.string(NFTA_SET_ELEM_LIST.TABLE, s.table);
      w.string(NFTA_SET_ELEM_LIST.SET, s.name);
    });
    const out: NonNullable<NftSet['elements']> = [];
    for (const m of msgs) for (const e of decodeSetElements(m).elements) out.push(e);
    return out;
  }

  /** One dump request; every reply must belong to generation `gen` and not be interrupted. */
  private async dump(msg: number, family: number, gen: number, fill?: (w: AttributeWriter) => void): Promise<NftMessage[]> {
    const seq = this.socket.nextSeq();
    const w = new AttributeWriter(128);
    const start = beginNftMessage(w, { msg, flags: NLM_F_DUMP, seq, family });
    fill?.(w);
    endMessage(w, start);
    const operation = nftMsgName(nftMsgType(msg)) ?? `message ${msg}`;
    const replies = await this.exchangeOrThrow(w.toBuffer(), seq, operation);
    const out: NftMessage[] = [];
    for (const m of replies) {
      if (m.seq !== seq) continue;
      // An object found by an earlier dump of this snapshot and gone now: someone committed since.
      if (m.type === NLMSG_ERROR && parseErrorBody(m).errno === ENOENT) throw new DumpRace();
      failOnError(m, operation, 'dump');
      const nm = parseNftMessage(m);
      if (!nm) continue;
      checkConsistent(nm, gen);
      out.push(nm);
    }
    return out;
  }

  private async exchangeOrThrow(request: Buffer, seq: number, operation: string): Promise<NetlinkMessage[]> {
    try {
      return await this.socket.exchange([request], seq);
    } catch (err) {
      throw socketError(err, operation);
    }
  }
}

function getGenMessage(seq: number): Buffer {
  const w = new AttributeWriter(32);
  encodeGetGen(w, seq);
  return w.toBuffer();
}

/** Objects of families the model does not know (none exist today) are skipped, not misread. */
function known(m: NftMessage): boolean {
  return m.family !== undefined;
}

function checkConsistent(m: NftMessage, gen: number): void {
  if (m.flags & NLM_F_DUMP_INTR || m.resId !== (gen & 0xffff)) throw new DumpRace();
}

function failOnError(m: NetlinkMessage, operation: string, object: string): void {
  if (m.type !== NLMSG_ERROR) return;
  const body = parseErrorBody(m);
  if (body.errno) throw kernelError(operation, object, body.errno, body.message);
}

/** Every error the kernel returned for the batch, once per (seq, errno), in the kernel's order. */
function batchErrors(tx: Transaction, parts: Buffer[], replies: NetlinkMessage[]): NftError[] {
  const seen = new Set<string>();
  const out: NftError[] = [];
  for (const m of replies) {
    if (m.type !== NLMSG_ERROR) continue;
    const body = parseErrorBody(m);
    if (!body.errno) continue;
    // A batch replayed after a module autoload can answer the same message twice (gnft #329).
    const key = `${body.requestSeq}:${body.errno}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const entry = tx.describe(body.requestSeq) ?? { operation: 'UNKNOWN', object: `message seq ${body.requestSeq}` };
    // parts[1] holds the batch's messages (Transaction.encode); the offset is from the request's start.
    const attribute =
      body.offset !== undefined && parts[1] ? describeAttributeAt(parts[1], body.requestSeq, entry.operation, body.offset) : undefined;
    out.push(kernelError(entry.operation, entry.object, body.errno, body.message, attribute));
  }
  return out;
}

/**
 * The sentinel's reply came, but the kernel dropped other replies (NO_ENOBUFS): errors of the batch
 * may be among them, so success cannot be claimed. With `genId`, an unchanged generation proves the
 * batch was refused; otherwise the caller must read the ruleset back.
 */
function lostReplies(dropped: number, genId: number | undefined, generation: number): NftError {
  const what = `commit: the kernel dropped ${dropped} replies (receive buffer full)`;
  if (genId !== undefined && generation === genId) {
    return new NftError('NFT_KERNEL_ERROR', `${what}; the generation is still ${genId}, so the batch was refused and its errors were lost`, {
      operation: 'BATCH',
      object: 'batch',
    });
  }
  return new NftError('NFT_COMMIT_UNKNOWN', `${what}; whether the batch was applied is unknown (generation now ${generation}): read the ruleset back`, {
    operation: 'BATCH',
    object: 'batch',
  });
}

/** One error for a failed batch: a stale generation first, else the kernel's first complaint; `dropped` replies were lost. */
function summarise(errors: NftError[], dropped: number): NftError {
  const primary = errors.find((e) => e.errno === ERESTART) ?? errors[0];
  const more = errors.length > 1 ? `; ${errors.length - 1} more: ${errors.slice(1).map((e) => e.message).join('; ')}` : '';
  const lost = dropped > 0 ? `; ${dropped} more replies were dropped (receive buffer full)` : '';
  return new NftError(primary.code, `${primary.message}${more}${lost}; the batch was not applied`, {
    operation: primary.operation,
    object: primary.object,
    errno: primary.errno,
    kernelMessage: primary.kernelMessage,
    attribute: primary.attribute,
    errors,
  });
}

function socketError(err: unknown, operation: string): Error {
  if (err instanceof NftError) return err;
  const e = err as NetlinkSocketError;
  return new NftError('NFT_SOCKET', `${operation}: ${e.message}`, { operation, errno: e.errno });
}

function readWmemMax(): string {
  try {
    return readFileSync('/proc/sys/net/core/wmem_max', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

