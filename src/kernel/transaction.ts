// One nf_tables transaction: the messages of one nfnetlink batch, encoded as they are added straight
// into one AttributeWriter (no intermediate objects: a 100,000-prefix set is ~200,000 elements).
// Every message gets its own seq, and the transaction remembers which operation on which object each
// seq belongs to, so that the kernel's errors (answered by seq, nfnetlink.c nfnetlink_rcv_batch) can
// be named. BATCH_BEGIN and BATCH_END are produced at commit, when the generation to check is known.
import { AttributeWriter, NLM_F_APPEND, NLM_F_CREATE, NLM_F_REPLACE } from '../netlink';
import {
  NftMsg,
  NftMsgName,
  describeChain,
  describeRule,
  describeSet,
  describeTable,
  encodeChain,
  encodeRule,
  encodeSet,
  encodeSetElements,
  encodeTable,
  writeBatchBegin,
  writeBatchEnd,
} from '../nftables';
import { Chain, NftSet, Rule, SetElement, Table } from '../nftables/model';

/** What one seq of the batch was: the operation and the object, for error messages. */
export interface BatchEntry {
  operation: NftMsgName | 'BATCH';
  object: string;
}

// Seqs are unique across all transactions of this process, so that a late reply can never be taken
// for an answer to a message of another batch. Start from the clock, as NetlinkSocket does.
let lastSeq = (Date.now() & 0x3fffffff) >>> 0;
function nextSeq(): number {
  lastSeq = (lastSeq + 1) >>> 0 || 1;
  return lastSeq;
}

/** Transaction-local set ids are assigned from here up, clear of small ids a compiler picks itself. */
const FIRST_ASSIGNED_SET_ID = 0x10000;

export class Transaction {
  private readonly w: AttributeWriter;
  private readonly entries = new Map<number, BatchEntry>();
  private readonly beginSeq = nextSeq();
  private ops = 0;
  /** Set ids of sets added in this transaction, by "family table name". */
  private readonly setIds = new Map<string, number>();
  private nextSetId = FIRST_ASSIGNED_SET_ID;
  /** An encoder that threw may have left half a message in the writer: the batch is then unusable. */
  private broken: Error | undefined;

  constructor(initialBytes = 64 * 1024) {
    this.w = new AttributeWriter(initialBytes);
    this.entries.set(this.beginSeq, { operation: 'BATCH', object: 'batch (commit phase)' });
  }

  /** Number of operations added (one per call, however many messages it took). */
  get size(): number {
    return this.ops;
  }

  /** Bytes of the encoded messages so far, without the batch delimiters. */
  get byteLength(): number {
    return this.w.length;
  }

  isEmpty(): boolean {
    return this.ops === 0;
  }

  addTable(t: Table): this {
    return this.record('NEWTABLE', describeTable(t), (seq) => encodeTable(this.w, t, { msg: NftMsg.NEWTABLE, flags: NLM_F_CREATE, seq }));
  }

  deleteTable(t: Table): this {
    return this.record('DELTABLE', describeTable(t), (seq) => encodeTable(this.w, t, { msg: NftMsg.DELTABLE, flags: 0, seq }));
  }

  addChain(c: Chain): this {
    return this.record('NEWCHAIN', describeChain(c), (seq) => encodeChain(this.w, c, { msg: NftMsg.NEWCHAIN, flags: NLM_F_CREATE, seq }));
  }

  deleteChain(c: Chain): this {
    return this.record('DELCHAIN', describeChain(c), (seq) => encodeChain(this.w, c, { msg: NftMsg.DELCHAIN, flags: 0, seq }));
  }

  /** DELRULE with table and chain but no handle removes every rule of the chain. */
  flushChain(c: Chain): this {
    const rule: Rule = { family: c.family, table: c.table, chain: c.name, exprs: [] };
    return this.record('DELRULE', `${describeChain(c)} (flush)`, (seq) =>
      encodeRule(this.w, rule, { msg: NftMsg.DELRULE, flags: 0, seq }),
    );
  }

  /**
   * Appends the rule to its chain, or places it after / before the rule with the given handle
   * (NLM_F_APPEND with a position adds after it, without APPEND inserts before it: nf_tables_newrule).
   */
  addRule(r: Rule, position?: { after?: bigint; before?: bigint }): this {
    const rule: Rule = r.handle === undefined ? r : { ...r, handle: undefined };
    const before = position?.before;
    const flags = NLM_F_CREATE | (before === undefined ? NLM_F_APPEND : 0);
    const at = before ?? position?.after;
    return this.record('NEWRULE', describeRule(rule), (seq) => encodeRule(this.w, rule, { msg: NftMsg.NEWRULE, flags, seq }, at));
  }

  /** Replaces rule `r.handle` in place; the rule keeps its handle and its position. */
  replaceRule(r: Rule & { handle: bigint }): this {
    return this.record('NEWRULE', describeRule(r), (seq) =>
      encodeRule(this.w, r, { msg: NftMsg.NEWRULE, flags: NLM_F_REPLACE, seq }),
    );
  }

  deleteRule(r: Rule & { handle: bigint }): this {
    return this.record('DELRULE', describeRule(r), (seq) => encodeRule(this.w, r, { msg: NftMsg.DELRULE, flags: 0, seq }));
  }

  /**
   * Adds the set, then its elements when `s.elements` is present. A set without an id gets one, so
   * that elements and lookups in this batch can refer to it by NFTA_SET_ID as nft does.
   */
  addSet(s: NftSet): this {
    const id = s.id ?? this.nextSetId++;
    const set: NftSet = { ...s, id, elements: undefined };
    this.setIds.set(setKey(s), id);
    this.record('NEWSET', describeSet(s), (seq) => encodeSet(this.w, set, { msg: NftMsg.NEWSET, flags: NLM_F_CREATE, seq }));
    if (s.elements?.length) this.addElements(s, s.elements);
    return this;
  }

  deleteSet(s: NftSet): this {
    return this.record('DELSET', describeSet(s), (seq) => encodeSet(this.w, s, { msg: NftMsg.DELSET, flags: 0, seq }));
  }

  addElements(s: NftSet, elements: SetElement[]): this {
    return this.elements('NEWSETELEM', NftMsg.NEWSETELEM, NLM_F_CREATE, s, elements);
  }

  deleteElements(s: NftSet, elements: SetElement[]): this {
    return this.elements('DELSETELEM', NftMsg.DELSETELEM, 0, s, elements);
  }

  /** The operation and object a seq of this batch stands for. */
  describe(seq: number): BatchEntry | undefined {
    return this.entries.get(seq);
  }

  /** The seq of BATCH_BEGIN, against which the kernel answers commit-phase errors. */
  get batchSeq(): number {
    return this.beginSeq;
  }

  /**
   * The whole batch as the buffers of one sendmsg: BATCH_BEGIN (with NFNL_BATCH_GENID when `genId`
   * is given), the messages, BATCH_END. The messages are a view of the writer, not a copy.
   */
  encode(genId?: number): Buffer[] {
    if (this.broken) throw new Error(`transaction unusable: an earlier operation failed to encode: ${this.broken.message}`);
    const begin = new AttributeWriter(32);
    writeBatchBegin(begin, this.beginSeq, genId);
    const end = new AttributeWriter(32);
    const endSeq = nextSeq();
    this.entries.set(endSeq, { operation: 'BATCH', object: 'batch end' });
    writeBatchEnd(end, endSeq);
    return [begin.toBuffer(), this.w.toBuffer(), end.toBuffer()];
  }

  private elements(operation: NftMsgName, msg: number, flags: number, s: NftSet, elements: SetElement[]): this {
    if (!elements.length) return this;
    const id = this.setIds.get(setKey(s));
    const ref = { family: s.family, table: s.table, name: s.name, id };
    this.ops++;
    const seqs = this.guard(() => encodeSetElements(this.w, ref, elements, { msg, flags }, nextSeq));
    seqs.forEach((seq, i) => {
      const part = seqs.length > 1 ? `, message ${i + 1} of ${seqs.length}` : '';
      this.entries.set(seq, { operation, object: `${describeSet(s)} (${elements.length} elements${part})` });
    });
    return this;
  }

  private guard<T>(fn: () => T): T {
    if (this.broken) throw this.broken;
    try {
      return fn();
    } catch (err) {
      this.broken = err as Error;
      throw err;
    }
  }

  private record(operation: NftMsgName, object: string, encode: (seq: number) => void): this {
    const seq = nextSeq();
    this.guard(() => encode(seq));
    this.entries.set(seq, { operation, object });
    this.ops++;
    return this;
  }
}

function setKey(s: Pick<NftSet, 'family' | 'table' | 'name'>): string {
  return `${s.family} ${s.table} ${s.name}`;
}
