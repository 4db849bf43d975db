import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  AttributeWriter,
  NLM_F_CAPPED,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  NetlinkMessage,
  NetlinkSocket,
  errnoName,
  parseErrorBody,
} from '../../src/netlink';
import { flushRuleset, nft } from '../support/kernel';
import {
  NETLINK_NETFILTER,
  NFNLGRP_NFTABLES,
  NFPROTO_INET,
  NFTA_CHAIN_NAME,
  NFTA_CHAIN_TABLE,
  NFTA_TABLE_FLAGS,
  NFTA_TABLE_NAME,
  NFT_MSG_NEWCHAIN,
  NFT_MSG_NEWSET,
  NFT_MSG_NEWSETELEM,
  NFT_MSG_NEWTABLE,
  batch,
  generationId,
  getGeneration,
  nfMessage,
  nftType,
  sendBatch,
} from './nft-wire';

const NFT_MSG_GETTABLE = 1;
// NFTA_SET_* and NFTA_SET_ELEM_* (nf_tables.h); TYPE_IPADDR is nft's ipv4_addr datatype (datatype.h).
const NFTA_SET_TABLE = 1;
const NFTA_SET_NAME = 2;
const NFTA_SET_KEY_TYPE = 4;
const NFTA_SET_KEY_LEN = 5;
const NFTA_SET_ID = 10;
const TYPE_IPADDR = 7;
const NFTA_SET_ELEM_LIST_TABLE = 1;
const NFTA_SET_ELEM_LIST_SET = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS = 3;
const NFTA_LIST_ELEM = 1;
const NFTA_SET_ELEM_KEY = 1;
const NFTA_SET_ELEM_USERDATA = 6;
const NFTA_DATA_VALUE = 1;
// nftnl udata TLV {u8 type, u8 len, value}; NFTNL_UDATA_SET_ELEM_COMMENT = 0, a NUL-terminated string.
const UDATA_ELEM_COMMENT = 0;
// nft's `add` (NEWSET without NLM_F_CREATE answers ENOENT, nf_tables_newset).
const CREATE = NLM_F_REQUEST | NLM_F_CREATE;

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function wmemMax(): number {
  return Number(readFileSync('/proc/sys/net/core/wmem_max', 'utf8'));
}

function ipv4(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE((10 << 24) + n);
  return b;
}

function comment(i: number): string {
  return `elem-${i}-`.padEnd(200, 'x');
}

/**
 * `add table inet fgbig; add set inet fgbig s { type ipv4_addr; }` and `count` elements 10.0.0.0 + i,
 * each with a 200-byte comment so the batch is large without millions of elements. Elements are
 * split across NEWSETELEM messages so no nest exceeds nla_len's 16 bits (as nft does).
 */
function bigBatch(socket: NetlinkSocket, count: number): Buffer {
  const perMessage = 250;
  return batch(
    socket,
    (w, seq) => {
      nfMessage(w, nftType(NFT_MSG_NEWTABLE), CREATE, seq(), NFPROTO_INET, 0, (m) => m.string(NFTA_TABLE_NAME, 'fgbig'));
      nfMessage(w, nftType(NFT_MSG_NEWSET), CREATE, seq(), NFPROTO_INET, 0, (m) =>
        m.string(NFTA_SET_TABLE, 'fgbig').string(NFTA_SET_NAME, 's').u32be(NFTA_SET_KEY_TYPE, TYPE_IPADDR).u32be(NFTA_SET_KEY_LEN, 4).u32be(NFTA_SET_ID, 1),
      );
      for (let first = 0; first < count; first += perMessage) {
        nfMessage(w, nftType(NFT_MSG_NEWSETELEM), CREATE, seq(), NFPROTO_INET, 0, (m) => {
          m.string(NFTA_SET_ELEM_LIST_TABLE, 'fgbig').string(NFTA_SET_ELEM_LIST_SET, 's');
          m.nest(NFTA_SET_ELEM_LIST_ELEMENTS, (list) => {
            for (let i = first; i < Math.min(count, first + perMessage); i++) {
              const text = Buffer.from(comment(i) + '\0', 'latin1');
              list.nest(NFTA_LIST_ELEM, (e) => {
                e.nest(NFTA_SET_ELEM_KEY, (k) => k.bytes(NFTA_DATA_VALUE, ipv4(i)));
                e.bytes(NFTA_SET_ELEM_USERDATA, Buffer.concat([Uint8Array.of(UDATA_ELEM_COMMENT, text.length), text]));
              });
            }
          });
        });
      }
    },
    24 << 20,
  );
}

/** NEWGEN ids seen by a monitor socket, in arrival order. */
function collectGenerations(monitor: NetlinkSocket): number[] {
  const ids: number[] = [];
  monitor.onUnsolicited((messages: NetlinkMessage[]) => {
    for (const m of messages) {
      const id = generationId(m);
      if (id !== undefined) ids.push(id);
    }
  });
  return ids;
}

async function waitFor(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Generation ids in (from, to] that `seen` lacks: the events a monitor lost. */
function missingGenerations(seen: number[], from: number, to: number): number[] {
  const have = new Set(seen);
  const out: number[] = [];
  for (let g = from + 1; g <= to; g++) if (!have.has(g)) out.push(g);
  return out;
}

describe('NetlinkSocket options against the kernel @kernel', () => {
  const open: NetlinkSocket[] = [];
  beforeEach(() => flushRuleset());
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });
  function socket(options: ConstructorParameters<typeof NetlinkSocket>[1] = {}): NetlinkSocket {
    const s = new NetlinkSocket(NETLINK_NETFILTER, options);
    open.push(s);
    return s;
  }

  it('sendBufferForce: one sendmsg commits a batch larger than 2 x net.core.wmem_max', async function () {
    this.timeout(120_000);
    const target = Math.max(20_000_000, 2 * wmemMax() + (4 << 20));
    const count = Math.ceil(target / 224); // 224 encoded bytes per element
    // capAck: should the batch fail, error replies must not echo up to 20 MB of requests back.
    const forced = socket({ sendBufferForce: target + (1 << 20), extAck: true, capAck: true });
    const buf = bigBatch(forced, count);
    assert.ok(buf.length > 2 * wmemMax(), `batch of ${buf.length} bytes exceeds 2 x wmem_max`);
    assert.equal(forced.applied.sendBuffer, 'forced');

    // Control: the plain option is capped by wmem_max and the same datagram is refused.
    const plain = socket({ sendBufferSize: target + (1 << 20) });
    await assert.rejects(plain.send([buf]), { code: 'EMSGSIZE' });

    // Sizing for the batch at hand, as nft does, also works on an open socket.
    const resized = socket();
    assert.equal(resized.forceSendBufferSize(buf.length + (1 << 20)), 'forced');
    assert.ok(resized.sendBufferSize - 32 >= buf.length);

    const before = await getGeneration(forced);
    const { errors, generation } = await sendBatch(forced, buf);
    assert.deepEqual(errors.map((m) => errnoName(parseErrorBody(m).errno)), []);
    assert.equal(generation, before + 1);

    const listed = execFileSync('nft', ['list', 'set', 'inet', 'fgbig', 's'], { encoding: 'utf8', maxBuffer: 256 << 20 });
    assert.equal(listed.match(/comment "elem-/g)?.length, count);
    const last = count - 1;
    assert.ok(listed.includes(`${ipv4(last).join('.')} comment "${comment(last)}"`), 'the last element, with its comment');
  });

  it('extAck: kernel errors carry the offending attribute offset and the kernel message; capAck trims the echo', async () => {
    let chainAt = 0;
    let tableAt = 0;
    const failing = (s: NetlinkSocket) =>
      batch(s, (w, seq) => {
        chainAt = nfMessage(w, nftType(NFT_MSG_NEWCHAIN), NLM_F_REQUEST, seq(), NFPROTO_INET, 0, (m) =>
          m.string(NFTA_CHAIN_TABLE, 'nosuch').string(NFTA_CHAIN_NAME, 'c'),
        );
        // NFTA_TABLE_FLAGS must be a be32; one byte fails attribute policy validation.
        tableAt = nfMessage(w, nftType(NFT_MSG_NEWTABLE), NLM_F_REQUEST, seq(), NFPROTO_INET, 0, (m) =>
          m.string(NFTA_TABLE_NAME, 't').bytes(NFTA_TABLE_FLAGS, Uint8Array.of(1)),
        );
      });
    const attributeAt = (buf: Buffer, msgStart: number, offset: number | undefined) => {
      assert.notEqual(offset, undefined, 'an offset was reported');
      const at = msgStart + (offset as number);
      return { type: buf.readUInt16LE(at + 2), value: buf.subarray(at + 4, at + buf.readUInt16LE(at)) };
    };

    for (const capAck of [false, true]) {
      const s = socket({ extAck: true, capAck });
      assert.deepEqual([s.applied.extAck, s.applied.capAck], [true, capAck]);
      const buf = failing(s);
      const { errors } = await sendBatch(s, buf);
      assert.equal(errors.length, 2, `capAck ${capAck}`);
      assert.equal((errors[0]?.flags ?? 0) & NLM_F_CAPPED ? true : false, capAck);
      const [chain, table] = errors.map(parseErrorBody);
      assert.equal(errnoName(chain?.errno ?? 0), 'ENOENT');
      assert.equal(chain?.requestType, nftType(NFT_MSG_NEWCHAIN));
      const bad = attributeAt(buf, chainAt, chain?.offset);
      assert.deepEqual([bad.type, bad.value.toString('latin1')], [NFTA_CHAIN_TABLE, 'nosuch\0']);

      assert.equal(table?.requestType, nftType(NFT_MSG_NEWTABLE));
      assert.match(table?.message ?? '', /policy/i);
      assert.equal(attributeAt(buf, tableAt, table?.offset).type, NFTA_TABLE_FLAGS);
    }

    // Control: without extAck the same errors come with errno only.
    const bare = socket();
    const { errors } = await sendBatch(bare, failing(bare));
    const plain = errors.map(parseErrorBody);
    assert.equal(plain.length, 2);
    assert.equal(errnoName(plain[0]?.errno ?? 0), 'ENOENT');
    assert.deepEqual(plain.map((e) => [e.message, e.offset]), [[undefined, undefined], [undefined, undefined]]);
  });

  it('nf_tables generation ids on the monitor are consecutive per commit; failed and empty commits emit none', async () => {
    const monitor = socket({ groups: [NFNLGRP_NFTABLES], recvBufferForce: 8 << 20, noEnobufs: true });
    const seen = collectGenerations(monitor);
    const client = socket();
    const g0 = await getGeneration(client);
    for (let i = 1; i <= 5; i++) nft(['add', 'table', 'inet', `m${i}`]);
    assert.throws(() => nft(['add', 'chain', 'inet', 'nosuch', 'c'])); // aborted batch
    nft(['add', 'table', 'inet', 'm1']); // exists already: nothing to commit
    nft(['add', 'table', 'inet', 'm6']);
    const g1 = await getGeneration(client);
    assert.equal(g1, g0 + 6);
    await waitFor(() => seen.includes(g1), `NEWGEN ${g1}`);
    assert.deepEqual(seen, [1, 2, 3, 4, 5, 6].map((n) => g0 + n));
    assert.equal(monitor.droppedMessages(), 0);
  });

  it('noEnobufs: a monitor with a small buffer survives an event burst; the lost events show as a generation gap and as drops', async () => {
    const monitor = socket({ groups: [NFNLGRP_NFTABLES], recvBufferSize: 16 << 10, noEnobufs: true });
    assert.equal(monitor.applied.noEnobufs, true);
    assert.ok(monitor.recvBufferSize <= 64 << 10);
    const seen = collectGenerations(monitor);
    const errors: string[] = [];
    monitor.onError((e) => errors.push(e.code));
    const client = socket();
    const g0 = await getGeneration(client);

    // The event loop is blocked while nft runs, so nothing drains the monitor during the burst.
    for (let i = 0; i < 60; i++) execFileSync('nft', ['add', 'table', 'inet', `burst${i}`]);
    await sleep(50);
    await run('nft', ['add', 'table', 'inet', 'after']);
    const g1 = await getGeneration(client);
    assert.equal(g1, g0 + 61);
    // The socket still delivers after the overrun: the commit made after the burst arrives.
    await waitFor(() => seen.includes(g1), `NEWGEN ${g1} after the burst`);

    const missing = missingGenerations(seen, g0, g1);
    assert.ok(missing.length > 0, 'the burst overflowed the buffer');
    // A reader that only sees ids detects it: some id does not follow its predecessor.
    const gaps = seen.map((id, i) => id - (i === 0 ? g0 : (seen[i - 1] as number))).filter((step) => step !== 1);
    assert.ok(gaps.length > 0);
    assert.ok(monitor.droppedMessages() >= missing.length);
    assert.deepEqual(errors, []);
  });

  it('control: without noEnobufs the same overrun aborts the whole process (npm netlink 0.3.0 throws from its poll handler)', () => {
    const socketModule = path.resolve(__dirname, '../../src/netlink/socket.js');
    const script = `
      const { execFileSync } = require('node:child_process');
      const { NetlinkSocket } = require(${JSON.stringify(socketModule)});
      const m = new NetlinkSocket(${NETLINK_NETFILTER}, { groups: [${NFNLGRP_NFTABLES}], recvBufferSize: 16 << 10 });
      m.onError((e) => console.log('error event', e.code));
      for (let i = 0; i < 60; i++) execFileSync('nft', ['add', 'table', 'inet', 'crash' + i]);
      setTimeout(() => { console.log('survived'); m.close(); }, 300);`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.signal, 'SIGABRT', `status ${r.status}, stdout ${r.stdout}, stderr ${r.stderr}`);
    assert.doesNotMatch(r.stdout, /survived/);
  });

  it('messagePeeking false with a 70 KiB msgBufferSize lets the kernel send dumps in ~32 KiB chunks', async () => {
    nft(['-f', '-'], Array.from({ length: 2000 }, (_, i) => `add table inet table${i}\n`).join(''));
    const datagramSizes = async (s: NetlinkSocket) => {
      let sizes: number[] = [];
      // Twice: the kernel sizes dump chunks from the previous recvmsg buffer length.
      for (let round = 0; round < 2; round++) {
        const w = new AttributeWriter();
        const seq = s.nextSeq();
        nfMessage(w, nftType(NFT_MSG_GETTABLE), NLM_F_REQUEST | NLM_F_DUMP, seq, 0, 0);
        const messages = await s.exchange([w.toBuffer()], seq);
        assert.equal(messages.filter((m) => m.type === nftType(NFT_MSG_NEWTABLE)).length, 2000);
        // Each datagram is one buffer from the binding; its messages are views into it.
        const perDatagram = new Map<ArrayBufferLike, number>();
        for (const m of messages) perDatagram.set(m.payload.buffer, (perDatagram.get(m.payload.buffer) ?? 0) + 16 + m.payload.length);
        sizes = [...perDatagram.values()];
      }
      return sizes;
    };
    const peeking = await datagramSizes(socket());
    const fixed = await datagramSizes(socket({ messagePeeking: false, msgBufferSize: 70 << 10 }));
    assert.ok(Math.max(...fixed) > 16 << 10, `largest chunk ${Math.max(...fixed)}`);
    assert.ok(Math.max(...fixed) <= 32 << 10);
    assert.ok(fixed.length * 4 <= peeking.length, `${fixed.length} datagrams vs ${peeking.length} when peeking`);
  });

  it('messagePeeking false: a datagram larger than msgBufferSize fails the exchange with NETLINK_TRUNCATED', async () => {
    const s = socket({ messagePeeking: false, msgBufferSize: 24 });
    await assert.rejects(getGeneration(s), { code: 'NETLINK_TRUNCATED' });
  });
});
